/* Retraining: start a job, follow it (events, with polling as the fallback) and chart the
 * accuracy per epoch (drawn by train_chart.js). */
import { authHeaders } from "./admin_token.js";
import { plotAccuracy } from "./train_chart.js";

const TRAIN_POLL_MS = 2000;
const TERMINAL_TRAIN = new Set(["done", "failed", "rejected"]);
const $ = (sel) => document.querySelector(sel);
const epochsInput = $("#epochs");
const retrainBtn = $("#retrain");
const trainStatus = $("#train-status");

let socket = null;
let onFinished = () => {};
let trainJob = null;     // job id we follow
let trainEpochs = 0;     // total epochs of that job (from events)
let trainHistory = [];   // index epoch-1 -> metrics dict
let trainDone = false;
let pollTimer = null;

/** Redraw the chart (e.g. once its panel has a layout size). */
export function drawChart() {
  plotAccuracy(trainHistory, trainEpochs, trainJob !== null);
}

/** After a reconnect: follow the job's events again. */
export function resubscribe() {
  if (trainJob) socket.emit("subscribe", { job_id: trainJob });
}

/** Wire the Retrain button and the `train_progress` events; `finished()` runs after a job. */
export function initTraining(sock, finished) {
  socket = sock;
  onFinished = finished;
  socket.on("train_progress", onProgress);
  retrainBtn.addEventListener("click", async () => {
    const epochs = parseInt(epochsInput.value, 10);
    if (!Number.isInteger(epochs) || epochs < 1) {
      trainStatus.textContent = "Epochs must be a whole number ≥ 1.";
      return;
    }
    retrainBtn.disabled = true;
    trainStatus.textContent = "Starting…";
    try {
      const res = await fetch("/api/train", {
        method: "POST",
        headers: authHeaders({ "Content-Type": "application/json" }),
        body: JSON.stringify({ epochs }),
      });
      const body = await res.json().catch(() => ({}));
      if (res.status === 202 && body.job_id) {
        followJob(body.job_id, epochs);
      } else if (res.status === 401 || res.status === 403) {
        trainStatus.textContent = "Rejected: bad or missing admin token.";
      } else if (res.status === 409 && body.job_id) {
        followJob(body.job_id, 0);
        trainStatus.textContent = `A job is already running (${body.job_id}); following it.`;
      } else {
        trainStatus.textContent = `Could not start: ${body.error || res.status}`;
      }
    } catch (e) {
      trainStatus.textContent = `Could not start: ${e.message}`;
    } finally {
      retrainBtn.disabled = false;
    }
  });
}

function followJob(jobId, epochs) {
  trainJob = jobId;
  trainEpochs = epochs || 0;
  trainHistory = [];
  trainDone = false;
  trainStatus.textContent = `Job ${jobId} queued…`;
  drawChart();
  socket.emit("subscribe", { job_id: jobId });
  // Polling is the fallback when events are missed (e.g. while reconnecting).
  clearInterval(pollTimer);
  pollTimer = setInterval(() => pollJob(false), TRAIN_POLL_MS);
}

function fmt(x, digits) {
  return typeof x === "number" && Number.isFinite(x) ? x.toFixed(digits) : "–";
}

function describeMetrics(m) {
  if (!m) return "";
  return ` — loss ${fmt(m.loss, 3)}, acc ${fmt(m.accuracy, 3)}, ` +
    `val_loss ${fmt(m.val_loss, 3)}, val_acc ${fmt(m.val_accuracy, 3)}`;
}

function finishJob(status, version, message) {
  trainDone = true;
  clearInterval(pollTimer);
  pollTimer = null;
  let text;
  if (status === "done") text = `Done${version != null ? ` — model v${version} ready` : ""}.`;
  else if (status === "rejected") text = "Finished, but the new model was rejected.";
  else text = "Training failed.";
  if (message) text += ` ${message}`;
  trainStatus.textContent = text;
  pollJob(true); // one last fetch so the chart shows every epoch
  onFinished();
}

function onProgress(msg) {
  if (!msg || msg.job_id !== trainJob || trainDone) return;
  if (msg.epochs) trainEpochs = msg.epochs;
  if (msg.epoch && msg.metrics) trainHistory[msg.epoch - 1] = msg.metrics;
  drawChart();
  if (TERMINAL_TRAIN.has(msg.status)) {
    finishJob(msg.status, msg.version, msg.message);
  } else {
    trainStatus.textContent =
      `Epoch ${msg.epoch || 0}/${trainEpochs || "?"}${describeMetrics(msg.metrics)}`;
  }
}

// The server's history is complete, while events may have been missed (e.g. when
// following a job that started before we subscribed): prefer it unless it is behind.
function mergeHistory(history) {
  if (Array.isArray(history) && history.length >= trainHistory.filter(Boolean).length) {
    trainHistory = history.slice();
  }
  drawChart();
}

async function pollJob(final) {
  if (!trainJob || (trainDone && !final)) return;
  const jobId = trainJob;
  try {
    const res = await fetch(`/api/train/${encodeURIComponent(jobId)}`);
    if (!res.ok || jobId !== trainJob) return;
    const body = await res.json();
    if (final) { mergeHistory(body.history); return; }
    if (trainDone) return;
    mergeHistory(body.history);
    if (TERMINAL_TRAIN.has(body.status)) {
      finishJob(body.status, body.version, body.message);
    } else if (body.status && trainHistory.length === 0) {
      trainStatus.textContent = `Job ${jobId}: ${body.status}…`;
    }
  } catch (e) {
    /* transient; the next poll or a socket event will catch up */
  }
}
