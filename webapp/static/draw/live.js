/* Live frames: throttled `draw` events with a seq, and the replies that are still current. */
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
  if (sendTimer !== null) return;
  const wait = SEND_INTERVAL_MS - (performance.now() - lastSentAt);
  if (wait <= 0) sendNow();
  else sendTimer = setTimeout(sendNow, wait);
}

/** Send the current drawing now (nothing when the canvas is blank). */
export function sendNow() {
  clearTimeout(sendTimer);
  sendTimer = null;
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
}

/** The drawing was cleared: replies still in flight for it must not reappear. */
export function forgetDrawing() {
  lastFrame = null;
  clearTimeout(sendTimer);
  sendTimer = null;
  shownSeq = Math.max(shownSeq, lastSeq);
}

/** After a reconnect, the reply to the last frame may have been lost: send it again. */
export function resendIfUnanswered() {
  if (hasInk() && shownSeq < lastSeq) sendNow();
}

/** Listen for replies: `onPrediction(msg)` for current ones, `onError(text)` for errors. */
export function initLive(sock, { onPrediction, onError }) {
  socket = sock;
  socket.on("prediction", (msg) => {
    if (!msg || typeof msg.seq !== "number") return;
    if (msg.seq <= shownSeq) return; // older than (or same as) what is already on screen
    shownSeq = msg.seq;
    onPrediction(msg);
  });
  socket.on("error", (msg) => {
    const text = msg && msg.error ? msg.error : String(msg);
    // Errors for frames we have already superseded are not worth showing.
    if (msg && typeof msg.seq === "number" && msg.seq < shownSeq) return;
    onError(text);
  });
}
