/* Shadow mode (issue 12): the admin picks a published version that also answers this tab's
 * frames. The server learns it through the `shadow` socket event (with the admin token) and
 * acknowledges with `shadow {version}`; each answer then carries `shadow`, shown beside the
 * active model's. The review asks GET /api/admin/shadow/disagreements for the newest feedback
 * drawings on which the two versions disagree. A reconnect is a new session: the choice is
 * sent again. */
import { adminToken, authHeaders } from "./admin_token.js";
import { paintImage28 } from "./view.js";

const $ = (sel) => document.querySelector(sel);
const picker = $("#shadow-version");
const statusEl = $("#shadow-status");
const box = $("#shadow-box");
const activeLabel = $("#active-label");
const shadowLabel = $("#shadow-label");
const shadowDigit = $("#shadow-digit");
const shadowCaption = $("#shadow-caption");
const reviewBtn = $("#shadow-review");
const reviewStatus = $("#shadow-review-status");
const reviewList = $("#shadow-disagreements");
const lastInput = $("#shadow-last");

let socket = null;
let shadowVersion = null; // what the server acknowledged for this session
let asked = false;        // a `shadow` event is waiting for its answer
let onChanged = () => {};

/** The shadow version set for this session (null: none). */
export function currentShadow() {
  return shadowVersion;
}

function ask(version) {
  asked = true;
  statusEl.textContent = version === null ? "Clearing the shadow…" : `Asking for v${version}…`;
  socket.emit("shadow", { version, token: adminToken() });
}

/** Wire the picker, the acknowledgement and the review; `changed` re-sends the drawing. */
export function initShadow(sock, changed) {
  socket = sock;
  onChanged = changed;
  picker.addEventListener("change", () => {
    ask(picker.value === "" ? null : Number(picker.value));
  });
  socket.on("shadow", (msg) => {
    asked = false;
    shadowVersion = msg && Number.isInteger(msg.version) ? msg.version : null;
    picker.value = shadowVersion === null ? "" : String(shadowVersion);
    statusEl.textContent = shadowVersion === null ? "No shadow: one model answers."
      : `v${shadowVersion} answers your frames beside the active model.`;
    box.hidden = shadowVersion === null;
    activeLabel.hidden = shadowVersion === null;
    onChanged();
  });
  socket.on("error", (msg) => {
    if (!asked || !msg || msg.seq !== null) return;
    asked = false;
    statusEl.textContent = `Refused: ${msg.error}`;
    picker.value = shadowVersion === null ? "" : String(shadowVersion);
  });
  reviewBtn.addEventListener("click", review);
}

/** After a reconnect the server has forgotten the session's shadow: ask again. */
export function resendShadow() {
  if (shadowVersion !== null) ask(shadowVersion);
}

/** The published versions, for the picker (models.js calls this after each load). */
export function fillShadowVersions(versions) {
  const keep = picker.value;
  picker.replaceChildren(new Option("no shadow", ""));
  for (const m of versions.slice().sort((a, b) => b.version - a.version)) {
    picker.add(new Option(`v${m.version}`, String(m.version)));
  }
  picker.value = [...picker.options].some((o) => o.value === keep) ? keep : "";
}

/** Show the shadow's answer beside the active one (or hide it when the answer has none). */
export function renderShadow(msg) {
  const s = msg && msg.shadow;
  if (msg && msg.model_version !== undefined && msg.model_version !== null) {
    activeLabel.textContent = `active v${msg.model_version}`;
  }
  if (!s || shadowVersion === null) {
    box.hidden = true;
    return;
  }
  box.hidden = false;
  shadowLabel.textContent = `shadow v${s.model_version}`;
  const empty = s.digit === null || s.digit === undefined;
  const notDigit = !empty && s.rejected === "not a digit";
  shadowDigit.textContent = empty ? "—" : notDigit ? "not a digit" : String(s.digit);
  shadowDigit.classList.toggle("empty", empty);
  shadowDigit.classList.toggle("rejected", notDigit);
  shadowDigit.classList.toggle("unsure", !empty && s.rejected === "ambiguous");
  const confidence = Number.isFinite(+s.confidence) ? +s.confidence : null;
  shadowCaption.textContent = s.error ? s.error
    : empty ? "" : confidence === null ? "" : `${(confidence * 100).toFixed(1)}% confident`;
}

function verdictText(p) {
  if (!p) return "?";
  return p.rejected === "not a digit" ? "not a digit" : String(p.digit);
}

async function review() {
  const version = shadowVersion !== null ? shadowVersion
    : (picker.value === "" ? null : Number(picker.value));
  if (version === null) {
    reviewStatus.textContent = "Pick a shadow version first.";
    return;
  }
  reviewStatus.textContent = `Running the feedback drawings through v${version}…`;
  reviewList.replaceChildren();
  try {
    const q = new URLSearchParams({ version, last: lastInput.value || "200" });
    const res = await fetch(`/api/admin/shadow/disagreements?${q}`, { headers: authHeaders() });
    const body = await res.json().catch(() => ({}));
    if (!res.ok) {
      reviewStatus.textContent = `Could not review: ${body.error || res.status}`;
      return;
    }
    reviewStatus.textContent = `v${body.active_version} and v${body.version} disagree on `
      + `${body.disagree} of the ${body.compared} newest feedback drawings.`;
    for (const item of body.items || []) reviewList.appendChild(disagreement(item, body));
  } catch (e) {
    reviewStatus.textContent = `Could not review: ${e.message}`;
  }
}

function disagreement(item, body) {
  const el = document.createElement("div");
  el.className = "disagreement";
  el.setAttribute("role", "listitem");
  const canvas = document.createElement("canvas");
  canvas.width = 28;
  canvas.height = 28;
  paintImage28(canvas.getContext("2d"), item.image28_b64);
  const text = document.createElement("div");
  text.textContent = `label ${item.label} · v${body.active_version}: ${verdictText(item.active)}`
    + ` · v${body.version}: ${verdictText(item.shadow)}`;
  el.append(canvas, text);
  return el;
}
