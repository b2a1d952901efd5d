/* digitflow — the live drawing page, wired from one module per job:
 *   canvas.js    the drawing surface and the frame to send
 *   live.js      throttled `draw` frames and the replies still current
 *   socket.js    the Socket.IO connection and its indicator
 *   view.js      the prediction, bars, preview, version, notices
 *   explain.js   the "what did it look at" toggle and the saliency overlay
 *   feedback.js  "it was a …" labels for the next retrain
 *   training.js  retraining: start a job and follow it
 *   train_chart.js  the accuracy-per-epoch chart
 *   chart_canvas.js one canvas set-up (size, pixel ratio, clear) for both charts
 *   models.js    the versions table and activation
 *   strokes.js   the stroke list behind the canvas (undo, stroke extents)
 *   undo.js      the undo button and Ctrl-Z / Cmd-Z
 *   number.js    number mode: the wide canvas and the number answer
 *   ops.js       the operator's view: workers, queues, live latency, recent work
 *   shadow.js    shadow mode: a second version's answer beside the active one, and where
 *                the two disagree on recent feedback
 * Plain ES modules served as they are: no build step.
 */
import { hasInk, initCanvas, undoLastStroke, wipe } from "./canvas.js";
import { strokeCount } from "./strokes.js";
import { initExplain } from "./explain.js";
import { clearFeedbackStatus, initFeedback } from "./feedback.js";
import {
  forgetDrawing, initLive, resendIfUnanswered, scheduleSend, sendNow, setFrameExtras, state,
} from "./live.js";
import { loadModels } from "./models.js";
import { initNumberMode, numberFrameFields, renderNumber } from "./number.js";
import { drawLatency, startOps, stopOps } from "./ops.js";
import { currentShadow, initShadow, renderShadow, resendShadow } from "./shadow.js";
import { connectSocket } from "./socket.js";
import { drawChart, initTraining, resubscribe } from "./training.js";
import { initUndo } from "./undo.js";
import {
  buildBars, flashNotice, hideError, renderPrediction, setVersion, showError, showVersionUnknown,
} from "./view.js";

const $ = (sel) => document.querySelector(sel);
const admin = $("#admin");

function clearAll() {
  wipe();
  forgetDrawing();
  renderPrediction({ digit: null, probabilities: null, image28_b64: null });
  renderShadow({ shadow: { digit: null, model_version: currentShadow() } });
  renderNumber({ number: "", digits: [] });
  clearFeedbackStatus();
  hideError();
}

// Undo: the canvas is redrawn from the strokes left, then predicted again (or cleared).
function undo() {
  if (!undoLastStroke()) return;
  if (hasInk()) sendNow();
  else clearAll();
}

function refreshModelsIfOpen() {
  if (admin.open) loadModels();
}

// After a reconnect: re-subscribe to a training job we follow and refresh the prediction
// for whatever is on the canvas (the old reply may have been lost).
const socket = connectSocket(() => {
  resubscribe();
  resendShadow();
  resendIfUnanswered();
});

initCanvas({ onInk: scheduleSend, onStrokeEnd: sendNow });
initLive(socket, {
  onPrediction: (msg) => {
    if (msg.model_version !== undefined && msg.model_version !== null) {
      setVersion(msg.model_version);
    }
    if ("number" in msg) renderNumber(msg);
    else {
      renderPrediction(msg);
      renderShadow(msg);
    }
  },
  onError: (text) => showError(`Server: ${text}`),
});
socket.on("hello", (msg) => setVersion(msg ? msg.model_version : null));
socket.on("model_activated", (msg) => {
  if (!msg) return;
  setVersion(msg.version);
  flashNotice(`Model v${msg.version} is now live`);
  refreshModelsIfOpen();
});
initFeedback(() => state.lastFrame);
initExplain(sendNow);
initShadow(socket, sendNow);
initTraining(socket, refreshModelsIfOpen);

$("#clear").addEventListener("click", clearAll);
initUndo(undo);
initNumberMode(clearAll);
setFrameExtras(numberFrameFields);
document.addEventListener("keydown", (ev) => {
  if (ev.key !== "Escape" && ev.key !== "Backspace") return;
  const t = ev.target;
  // Don't steal Backspace/Esc from text fields or an open <details>/<summary> control.
  if (t && (t.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(t.tagName))) return;
  ev.preventDefault();
  clearAll();
});

admin.addEventListener("toggle", () => {
  if (admin.open) {
    loadModels();
    drawChart(); // the canvas had no layout size while the <details> was closed
    drawLatency();
    startOps();
  } else {
    stopOps();
  }
});
$("#models-refresh").addEventListener("click", loadModels);
// Enter in a field must not submit (and reload) the page; it starts training instead.
$("#admin-form").addEventListener("submit", (ev) => {
  ev.preventDefault();
  $("#retrain").click();
});

buildBars();
renderPrediction({ digit: null });
setVersion(null);
showVersionUnknown();

// Live view for tests and debugging.
window.digitflow = {
  get lastSeq() { return state.lastSeq; },
  get shownSeq() { return state.shownSeq; },
  get strokes() { return strokeCount(); },
  get shadow() { return currentShadow(); },
  socket,
};
