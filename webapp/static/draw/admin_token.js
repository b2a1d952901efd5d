/* The admin token field, remembered in localStorage, and the header it authorises. */
const TOKEN_KEY = "digitflow.token";
const tokenInput = document.querySelector("#token");

try { tokenInput.value = localStorage.getItem(TOKEN_KEY) || ""; } catch (e) { /* storage blocked */ }
tokenInput.addEventListener("input", () => {
  try { localStorage.setItem(TOKEN_KEY, tokenInput.value.trim()); } catch (e) { /* ignore */ }
});

/** Request headers with `Authorization: Bearer <token>`, plus `extra`. */
export function authHeaders(extra) {
  return Object.assign({ Authorization: `Bearer ${tokenInput.value.trim()}` }, extra || {});
}
