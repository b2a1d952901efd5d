/* Number mode: a wide canvas, `draw` frames that ask for a whole number (with each stroke's
 * box, so strokes that overlap horizontally stay one digit), and the answer:
 * the number, big, then each digit with the 28x28 crop the model saw and its top
 * probabilities. */
import { setWide, strokeExtents } from "./canvas.js";
import { paintImage28 } from "./view.js";

const MAX_STROKES = 64; // the server reads at most this many stroke extents
const TOP = 3;          // probabilities shown per digit

const $ = (sel) => document.querySelector(sel);
const numberEl = $("#number");
const captionEl = $("#number-caption");
const digitsEl = $("#number-digits");
const heading = $(".draw-panel h2");
const hint = $(".draw-panel .hint");
const modeButtons = { digit: $("#mode-digit"), number: $("#mode-number") };
const TEXT = {
  digit: { heading: "Draw a digit", hint: "Draw one digit, large and centred." },
  number: { heading: "Write a number", hint: "Write a few digits side by side, left to right." },
};

let numberMode = false;

/** Is the page reading whole numbers? */
export function isNumberMode() {
  return numberMode;
}

/** The fields a `draw` carries in number mode (none in digit mode). */
export function numberFrameFields() {
  if (!numberMode) return {};
  const strokes = strokeExtents();
  return strokes.length <= MAX_STROKES ? { mode: "number", strokes } : { mode: "number" };
}

function setMode(mode) {
  numberMode = mode === "number";
  document.body.classList.toggle("number-mode", numberMode);
  for (const [name, button] of Object.entries(modeButtons)) {
    button.setAttribute("aria-pressed", String(name === mode));
  }
  heading.textContent = TEXT[mode].heading;
  hint.textContent = TEXT[mode].hint;
  setWide(numberMode);
}

/** Wire the mode buttons; `onSwitch()` runs after each switch (the drawing is wiped). */
export function initNumberMode(onSwitch) {
  for (const [mode, button] of Object.entries(modeButtons)) {
    button.addEventListener("click", () => {
      if ((mode === "number") === numberMode) return;
      setMode(mode);
      onSwitch();
    });
  }
}

function digitCard(pred) {
  const card = document.createElement("div");
  card.className = "num-digit";
  card.setAttribute("role", "listitem");
  const crop = document.createElement("canvas");
  crop.width = 28;
  crop.height = 28;
  crop.className = "num-crop";
  crop.setAttribute("aria-label", "what the model saw for this digit (28×28)");
  paintImage28(crop.getContext("2d"), pred.image28_b64);
  const digit = document.createElement("div");
  digit.className = "num-d";
  digit.textContent = String(pred.digit);
  const probs = document.createElement("ol");
  probs.className = "num-probs";
  const ranked = (Array.isArray(pred.probabilities) ? pred.probabilities : [])
    .map((p, d) => [d, Number.isFinite(+p) ? +p : 0])
    .sort((a, b) => b[1] - a[1])
    .slice(0, TOP);
  for (const [d, p] of ranked) {
    const li = document.createElement("li");
    li.textContent = `${d}: ${(p * 100).toFixed(p >= 0.995 || p < 0.001 ? 0 : 1)}%`;
    probs.appendChild(li);
  }
  card.append(crop, digit, probs);
  return card;
}

/** Show a number answer (`digits` empty or missing: nothing drawn). */
export function renderNumber(msg) {
  const digits = Array.isArray(msg.digits) ? msg.digits : [];
  const text = typeof msg.number === "string" ? msg.number : "";
  numberEl.textContent = text || "—";
  numberEl.classList.toggle("empty", !text);
  captionEl.textContent = text
    ? `${digits.length} digit${digits.length === 1 ? "" : "s"}`
    : "write a number";
  digitsEl.replaceChildren(...digits.map(digitCard));
}
