/* The admin token field, kept for this tab only (sessionStorage, never across browser
   restarts or in other tabs), and the header it authorises. */
const TOKEN_KEY = "digitflow.token";
const tokenInput = document.querySelector("#token");

try { tokenInput.value = sessionStorage.getItem(TOKEN_KEY) || ""; } catch (e) { /* storage blocked */ }
tokenInput.addEventListener("input", () => {
  try { sessionStorage.setItem(TOKEN_KEY, tokenInput.value.trim()); } catch (e) { /* ignore */ }
});

/** Request headers with `Authorization: Bearer <token>`, plus `extra`. */
export function authHeaders(extra) {
  return Object.assign({ Authorization: `Bearer ${tokenInput.value.trim()}` }, extra || {});
}

/** The admin token as typed (trimmed); the `shadow` socket event carries it. */
export function adminToken() {
  return tokenInput.value.trim();
}
