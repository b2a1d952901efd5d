/* What the page shows: the predicted digit (or "not a digit" / "not sure"), its probability
 * bars, the model's 28x28 input (with the saliency map over it when asked for), the model
 * version, and short notices and errors. */
import { paintSaliency } from "./explain.js";

const $ = (sel) => document.querySelector(sel);
const digitEl = $("#digit");
const digitCaption = $("#digit-caption");
const versionEl = $("#version");
const barsEl = $("#bars");
const previewCtx = $("#preview").getContext("2d");
const errorEl = $("#error");
const noticeEl = $("#notice");

const barRows = [];
let modelVersion = null;
let noticeTimer = null;
let errorTimer = null;

/** Build the ten probability bars once. */
export function buildBars() {
  for (let d = 0; d < 10; d++) {
    const row = document.createElement("div");
    row.className = "bar-row";
    row.setAttribute("role", "listitem");
    row.dataset.digit = String(d);
    const label = document.createElement("span");
    label.className = "bar-label";
    label.textContent = String(d);
    const track = document.createElement("span");
    track.className = "bar-track";
    const fill = document.createElement("span");
    fill.className = "bar-fill";
    track.appendChild(fill);
    const pct = document.createElement("span");
    pct.className = "bar-pct";
    pct.textContent = "0%";
    row.append(label, track, pct);
    barsEl.appendChild(row);
    barRows.push({ row, fill, pct });
  }
}

/** Show a prediction (digit null: nothing drawn). */
export function renderPrediction(msg) {
  const probs = Array.isArray(msg.probabilities) && msg.probabilities.length === 10
    ? msg.probabilities.map((p) => (Number.isFinite(+p) ? Math.max(0, Math.min(1, +p)) : 0))
    : new Array(10).fill(0);
  const empty = msg.digit === null || msg.digit === undefined;
  const notDigit = !empty && msg.rejected === "not a digit";
  const unsure = !empty && msg.rejected === "ambiguous";
  const confidence = Number.isFinite(+msg.confidence) ? +msg.confidence
    : (empty ? 0 : probs[msg.digit]);

  digitEl.textContent = empty ? "—" : (notDigit ? "not a digit" : String(msg.digit));
  digitEl.classList.toggle("empty", empty);
  digitEl.classList.toggle("rejected", notDigit);
  digitEl.classList.toggle("unsure", unsure);
  digitCaption.textContent = empty
    ? "draw a digit"
    : notDigit ? `best guess ${msg.digit} (${(confidence * 100).toFixed(1)}%)`
      : unsure ? `not sure: ${(confidence * 100).toFixed(1)}% confident`
        : `${(confidence * 100).toFixed(1)}% confident`;

  barRows.forEach((b, d) => {
    const p = empty ? 0 : probs[d];
    b.fill.style.width = `${(p * 100).toFixed(1)}%`;
    b.pct.textContent = `${Math.round(p * 100)}%`;
    b.row.classList.toggle("top", !empty && d === msg.digit);
  });

  drawPreview(empty ? null : msg.image28_b64);
  if (!empty) paintSaliency(previewCtx, msg.saliency);
}

// image28_b64 is exactly what the model saw (784 bytes, row-major, base64: a short string
// instead of 784 JSON numbers at every hop): paint it 1:1 into the 28x28 canvas, CSS scales
// it up with image-rendering: pixelated.
function drawPreview(b64) {
  paintImage28(previewCtx, b64);
}

/** Paint a 28x28 image sent as `image28_b64` into a 28x28 canvas context (black when the
 * string is missing or malformed). */
export function paintImage28(context, b64) {
  let bytes = null;
  try {
    bytes = typeof b64 === "string" ? atob(b64) : null;
  } catch (e) {
    bytes = null;
  }
  if (bytes !== null && bytes.length !== 28 * 28) bytes = null;
  const imgData = context.createImageData(28, 28);
  const d = imgData.data;
  for (let p = 0; p < 28 * 28; p++) {
    const v = bytes ? bytes.charCodeAt(p) : 0;
    d[p * 4] = d[p * 4 + 1] = d[p * 4 + 2] = v;
    d[p * 4 + 3] = 255;
  }
  context.putImageData(imgData, 0, 0);
}

/** The model version shown in the top bar (undefined keeps the current one). */
export function setVersion(v) {
  modelVersion = v === undefined ? modelVersion : v;
  versionEl.textContent = modelVersion === null || modelVersion === undefined
    ? "none" : `v${modelVersion}`;
}

/** The model version last shown. */
export function shownVersion() {
  return modelVersion;
}

/** Before the server said hello: no version known yet. */
export function showVersionUnknown() {
  versionEl.textContent = "–";
}

/** A notice that fades after a few seconds. */
export function flashNotice(text) {
  noticeEl.textContent = text;
  noticeEl.hidden = false;
  noticeEl.classList.remove("flash");
  void noticeEl.offsetWidth; // restart the CSS animation
  noticeEl.classList.add("flash");
  clearTimeout(noticeTimer);
  noticeTimer = setTimeout(() => { noticeEl.hidden = true; }, 4000);
}

/** An error line under the canvas, hidden again after a while. */
export function showError(text) {
  errorEl.textContent = text;
  errorEl.hidden = false;
  clearTimeout(errorTimer);
  errorTimer = setTimeout(hideError, 6000);
}

export function hideError() {
  errorEl.hidden = true;
}
