/* Live frames: throttled `draw` events with a seq, and the replies that are still current.
 *
 * Flow control: at most one frame is in flight. Ink drawn while it is out waits here, and
 * the newest drawing goes as soon as the answer comes (or after IN_FLIGHT_TIMEOUT_MS, if an
 * answer was lost). A frame the server would only replace with a newer one is never sent, so
 * a crowd of drawers costs the web tier one received frame per answer, not ten. */
import { grabFrame, hasInk } from "./canvas.js";
import { explainRequested } from "./explain.js";

const SEND_INTERVAL_MS = 100; // at most one `draw` per this many ms while drawing

let socket = null;
let lastSeq = 0;         // seq of the newest `draw` we sent
let shownSeq = 0;        // seq of the newest prediction we displayed (or cleared past)
let lastFrame = null;    // the PNG data URL of the last frame we sent (used for feedback)
let lastSentAt = 0;      // performance.now() of the last send
let sendTimer = null;    // pending throttled send
let frameExtras = () => ({}); // more fields for each `draw` (number mode: mode and strokes)
const IN_FLIGHT_TIMEOUT_MS = 2000; // no answer by then: treat it as lost, send again
let inFlightSeq = 0;     // seq of the frame awaiting its answer (0: none)
let inFlightTimer = null;
let sendWanted = false;  // ink changed while a frame was in flight

/** Fields added to every `draw` from now on, computed at send time. */
export function setFrameExtras(fn) {
  frameExtras = fn;
}

/** Where the live view stands (read by tests and by the feedback buttons). */
export const state = {
  get lastSeq() { return lastSeq; },
  get shownSeq() { return shownSeq; },
  get lastFrame() { return lastFrame; },
};

/** Send immediately if the last send is old enough, else once the interval has passed
 * (a trailing send, so the latest ink is never dropped). */
export function scheduleSend() {
  if (inFlightSeq) { sendWanted = true; return; }
  if (sendTimer !== null) return;
  const wait = SEND_INTERVAL_MS - (performance.now() - lastSentAt);
  if (wait <= 0) sendNow();
  else sendTimer = setTimeout(sendNow, wait);
}

/** Send the current drawing now (nothing when the canvas is blank); while a frame is in
 * flight, as soon as its answer comes. `force` sends anyway (the in-flight one was lost). */
export function sendNow(force = false) {
  clearTimeout(sendTimer);
  sendTimer = null;
  if (inFlightSeq && force !== true) { sendWanted = true; return; }
  sendWanted = false;
  if (!hasInk()) return;
  lastSentAt = performance.now();
  lastFrame = grabFrame();
  lastSeq += 1;
  // Socket.IO buffers emits while disconnected and flushes them on reconnect; the
  // seq check on replies keeps stale ones from being shown.
  const frame = { image: lastFrame, seq: lastSeq, ...frameExtras() };
  // the answer brings a saliency map (one digit only: number mode has no single map)
  if (explainRequested() && !frame.mode) frame.explain = true;
  socket.emit("draw", frame);
  inFlightSeq = lastSeq;
  clearTimeout(inFlightTimer);
  inFlightTimer = setTimeout(() => answered(inFlightSeq), IN_FLIGHT_TIMEOUT_MS);
}

/** The frame `seq` (or a newer one) was answered: the next drawing may go. */
function answered(seq) {
  if (!inFlightSeq || seq < inFlightSeq) return;
  inFlightSeq = 0;
  clearTimeout(inFlightTimer);
  inFlightTimer = null;
  if (sendWanted) scheduleSend();
}

/** The drawing was cleared: replies still in flight for it must not reappear. */
export function forgetDrawing() {
  lastFrame = null;
  clearTimeout(sendTimer);
  sendTimer = null;
  sendWanted = false;
  shownSeq = Math.max(shownSeq, lastSeq);
}

/** After a reconnect, the reply to the last frame may have been lost: send it again. */
export function resendIfUnanswered() {
  if (hasInk() && shownSeq < lastSeq) sendNow(true);
}

/** Listen for replies: `onPrediction(msg)` for current ones, `onError(text)` for errors. */
export function initLive(sock, { onPrediction, onError }) {
  socket = sock;
  socket.on("prediction", (msg) => {
    if (!msg || typeof msg.seq !== "number") return;
    answered(msg.seq);
    if (msg.seq <= shownSeq) return; // older than (or same as) what is already on screen
    shownSeq = msg.seq;
    onPrediction(msg);
  });
  socket.on("error", (msg) => {
    const text = msg && msg.error ? msg.error : String(msg);
    if (msg && typeof msg.seq === "number") answered(msg.seq);
    // Errors for frames we have already superseded are not worth showing.
    if (msg && typeof msg.seq === "number" && msg.seq < shownSeq) return;
    onError(text);
  });
}
