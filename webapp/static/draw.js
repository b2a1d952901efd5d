/* digitflow — live drawing page.
 *
 * Draw on #canvas with Pointer Events, stream downsampled ink-high frames to the
 * server as Socket.IO `draw` events, and render the `prediction` replies.
 * Plain browser JS, no build step; socket.io.min.js provides the global `io`.
 */
(function () {
  "use strict";

  // ---------------------------------------------------------------- constants
  const SEND_INTERVAL_MS = 100;   // at most one `draw` per this many ms while drawing
  const FRAME_SIZE = 112;         // frames sent are FRAME_SIZE x FRAME_SIZE PNGs
  const STROKE_FRACTION = 1 / 13; // stroke width relative to canvas size (MNIST-like after 20x20 fit)
  const TRAIN_POLL_MS = 2000;
  const TOKEN_KEY = "digitflow.token";
  const TERMINAL_TRAIN = new Set(["done", "failed", "rejected"]);

  const $ = (sel) => document.querySelector(sel);

  // ---------------------------------------------------------------- elements
  const canvas = $("#canvas");
  const ctx = canvas.getContext("2d");
  const clearBtn = $("#clear");
  const digitEl = $("#digit");
  const digitCaption = $("#digit-caption");
  const versionEl = $("#version");
  const connEl = $("#conn");
  const connDot = $("#conn-dot");
  const barsEl = $("#bars");
  const preview = $("#preview");
  const previewCtx = preview.getContext("2d");
  const errorEl = $("#error");
  const noticeEl = $("#notice");
  const feedbackButtons = $("#feedback-buttons");
  const feedbackStatus = $("#feedback-status");

  // ---------------------------------------------------------------- state
  let lastSeq = 0;         // seq of the newest `draw` we sent
  let shownSeq = 0;        // seq of the newest prediction we displayed (or cleared past)
  let lastFrame = null;    // the PNG data URL of the last frame we sent (used for feedback)
  let hasInk = false;      // anything drawn since the last clear?
  let lastSentAt = 0;      // performance.now() of the last send
  let sendTimer = null;    // pending throttled send
  let modelVersion = null;

  // Offscreen canvas used to downsample the drawing before sending it.
  const frameCanvas = document.createElement("canvas");
  frameCanvas.width = FRAME_SIZE;
  frameCanvas.height = FRAME_SIZE;
  const frameCtx = frameCanvas.getContext("2d", { willReadFrequently: true });

  // ================================================================ canvas
  // Internal resolution follows devicePixelRatio (capped at 2) so strokes are crisp;
  // pointer coordinates are mapped from CSS pixels with the element's bounding rect,
  // so this also works when CSS shrinks the canvas on narrow screens.
  function setupCanvas() {
    const dpr = Math.min(window.devicePixelRatio || 1, 2);
    const size = Math.round(280 * dpr);
    canvas.width = size;
    canvas.height = size;
    ctx.lineCap = "round";
    ctx.lineJoin = "round";
    ctx.strokeStyle = "#fff";
    ctx.fillStyle = "#fff";
    ctx.lineWidth = size * STROKE_FRACTION;
    wipeCanvas();
  }

  function wipeCanvas() {
    ctx.save();
    ctx.fillStyle = "#000";
    ctx.fillRect(0, 0, canvas.width, canvas.height);
    ctx.restore();
  }

  function toCanvasPoint(ev) {
    const r = canvas.getBoundingClientRect();
    return {
      x: ((ev.clientX - r.left) * canvas.width) / r.width,
      y: ((ev.clientY - r.top) * canvas.height) / r.height,
    };
  }

  let activePointer = null; // only one pointer draws at a time (ignore a second finger)
  let lastPoint = null;

  function dot(p) {
    ctx.beginPath();
    ctx.arc(p.x, p.y, ctx.lineWidth / 2, 0, Math.PI * 2);
    ctx.fill();
  }

  function segment(a, b) {
    ctx.beginPath();
    ctx.moveTo(a.x, a.y);
    ctx.lineTo(b.x, b.y);
    ctx.stroke();
  }

  canvas.addEventListener("pointerdown", (ev) => {
    if (activePointer !== null) return;
    if (ev.pointerType === "mouse" && ev.button !== 0) return;
    ev.preventDefault();
    activePointer = ev.pointerId;
    // Capture so the stroke continues (and ends properly) when the pointer leaves the canvas.
    canvas.setPointerCapture(ev.pointerId);
    lastPoint = toCanvasPoint(ev);
    dot(lastPoint); // a tap leaves a mark, like a pen
    hasInk = true;
    scheduleSend();
  });

  canvas.addEventListener("pointermove", (ev) => {
    if (ev.pointerId !== activePointer) return;
    ev.preventDefault();
    // Coalesced events give every sample the hardware reported since the last frame,
    // which keeps fast pen/finger strokes smooth instead of polygonal.
    const events = ev.getCoalescedEvents ? ev.getCoalescedEvents() : [];
    for (const e of events.length ? events : [ev]) {
      const p = toCanvasPoint(e);
      segment(lastPoint, p);
      lastPoint = p;
    }
    scheduleSend();
  });

  function endStroke(ev) {
    if (ev.pointerId !== activePointer) return;
    activePointer = null;
    lastPoint = null;
    // Always send once at the end of a stroke so the final shape is classified.
    sendNow();
  }
  canvas.addEventListener("pointerup", endStroke);
  canvas.addEventListener("pointercancel", endStroke);
  canvas.addEventListener("lostpointercapture", endStroke);
  // No context menu / long-press menu on the drawing surface.
  canvas.addEventListener("contextmenu", (ev) => ev.preventDefault());

  function clearAll() {
    wipeCanvas();
    hasInk = false;
    lastFrame = null;
    clearTimeout(sendTimer);
    sendTimer = null;
    // Predictions still in flight for the old drawing must not reappear: treat the
    // clear as "shown" up to the newest seq we sent.
    shownSeq = Math.max(shownSeq, lastSeq);
    renderPrediction({ digit: null, probabilities: null, image28_b64: null });
    feedbackStatus.textContent = "";
    hideError();
  }
  clearBtn.addEventListener("click", clearAll);

  document.addEventListener("keydown", (ev) => {
    if (ev.key !== "Escape" && ev.key !== "Backspace") return;
    const t = ev.target;
    // Don't steal Backspace/Esc from text fields or an open <details>/<summary> control.
    if (t && (t.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(t.tagName))) return;
    ev.preventDefault();
    clearAll();
  });

  // ================================================================ sending
  // Downsample the canvas into FRAME_SIZE^2 and send it as a PNG data URL: a string of
  // ~2 KB instead of a 12,544-number JSON array (~40 KB parsed and re-encoded at every hop).
  // White ink on an opaque black background, so the server reads it as ink-high.
  // A string, not a binary attachment: binary Socket.IO frames stall ~40 ms (Nagle).
  function grabFrame() {
    frameCtx.imageSmoothingEnabled = true;
    frameCtx.imageSmoothingQuality = "high";
    frameCtx.drawImage(canvas, 0, 0, FRAME_SIZE, FRAME_SIZE);
    return frameCanvas.toDataURL("image/png");
  }

  // Throttle: send immediately if the last send is old enough, else once the
  // interval has passed (a trailing send, so the latest ink is never dropped).
  function scheduleSend() {
    if (sendTimer !== null) return;
    const wait = SEND_INTERVAL_MS - (performance.now() - lastSentAt);
    if (wait <= 0) sendNow();
    else sendTimer = setTimeout(sendNow, wait);
  }

  function sendNow() {
    clearTimeout(sendTimer);
    sendTimer = null;
    if (!hasInk) return;
    lastSentAt = performance.now();
    lastFrame = grabFrame();
    lastSeq += 1;
    // Socket.IO buffers emits while disconnected and flushes them on reconnect; the
    // seq check on replies keeps stale ones from being shown.
    socket.emit("draw", { image: lastFrame, seq: lastSeq });
  }

  // ================================================================ rendering
  const barRows = [];
  function buildBars() {
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

  function renderPrediction(msg) {
    const probs = Array.isArray(msg.probabilities) && msg.probabilities.length === 10
      ? msg.probabilities.map((p) => (Number.isFinite(+p) ? Math.max(0, Math.min(1, +p)) : 0))
      : new Array(10).fill(0);
    const empty = msg.digit === null || msg.digit === undefined;

    digitEl.textContent = empty ? "—" : String(msg.digit);
    digitEl.classList.toggle("empty", empty);
    digitCaption.textContent = empty
      ? "draw a digit"
      : `${(probs[msg.digit] * 100).toFixed(1)}% confident`;

    barRows.forEach((b, d) => {
      const p = empty ? 0 : probs[d];
      b.fill.style.width = `${(p * 100).toFixed(1)}%`;
      b.pct.textContent = `${Math.round(p * 100)}%`;
      b.row.classList.toggle("top", !empty && d === msg.digit);
    });

    drawPreview(empty ? null : msg.image28_b64);
  }

  // image28_b64 is exactly what the model saw (784 bytes, row-major, base64: a short
  // string instead of 784 JSON numbers at every hop): paint it 1:1 into the 28x28 canvas,
  // CSS scales it up with image-rendering: pixelated.
  function drawPreview(b64) {
    let bytes = null;
    try {
      bytes = typeof b64 === "string" ? atob(b64) : null;
    } catch (e) {
      bytes = null;
    }
    if (bytes !== null && bytes.length !== 28 * 28) bytes = null;
    const imgData = previewCtx.createImageData(28, 28);
    const d = imgData.data;
    for (let p = 0; p < 28 * 28; p++) {
      const v = bytes ? bytes.charCodeAt(p) : 0;
      d[p * 4] = d[p * 4 + 1] = d[p * 4 + 2] = v;
      d[p * 4 + 3] = 255;
    }
    previewCtx.putImageData(imgData, 0, 0);
  }

  function setVersion(v) {
    modelVersion = v === undefined ? modelVersion : v;
    versionEl.textContent = modelVersion === null || modelVersion === undefined
      ? "none" : `v${modelVersion}`;
  }

  let noticeTimer = null;
  function flashNotice(text) {
    noticeEl.textContent = text;
    noticeEl.hidden = false;
    noticeEl.classList.remove("flash");
    void noticeEl.offsetWidth; // restart the CSS animation
    noticeEl.classList.add("flash");
    clearTimeout(noticeTimer);
    noticeTimer = setTimeout(() => { noticeEl.hidden = true; }, 4000);
  }

  let errorTimer = null;
  function showError(text) {
    errorEl.textContent = text;
    errorEl.hidden = false;
    clearTimeout(errorTimer);
    errorTimer = setTimeout(hideError, 6000);
  }
  function hideError() {
    errorEl.hidden = true;
  }

  // ================================================================ socket
  const socket = io();
  let everConnected = false;

  function setConn(state) {
    connEl.textContent = state;
    connDot.className = "dot " + ({
      connected: "dot-on", reconnecting: "dot-wait", disconnected: "dot-off",
    }[state] || "dot-wait");
  }

  socket.on("connect", () => {
    setConn("connected");
    // After a reconnect: re-subscribe to a training job we follow and refresh the
    // prediction for whatever is on the canvas (the old reply may have been lost).
    if (everConnected) {
      if (trainJob) socket.emit("subscribe", { job_id: trainJob });
      if (hasInk && shownSeq < lastSeq) sendNow();
    }
    everConnected = true;
  });
  socket.on("disconnect", (reason) => {
    if (reason === "io server disconnect") {
      // The server kicked us; Socket.IO will not retry on its own in this case.
      setConn("reconnecting");
      socket.connect();
    } else if (reason === "io client disconnect") {
      setConn("disconnected");
    } else {
      setConn("reconnecting");
    }
  });
  socket.on("connect_error", () => {
    if (!socket.connected) setConn(socket.active ? "reconnecting" : "disconnected");
  });
  socket.io.on("reconnect_attempt", () => setConn("reconnecting"));
  socket.io.on("reconnect_failed", () => setConn("disconnected"));

  socket.on("hello", (msg) => setVersion(msg ? msg.model_version : null));

  socket.on("prediction", (msg) => {
    if (!msg || typeof msg.seq !== "number") return;
    if (msg.seq <= shownSeq) return; // older than (or same as) what is already on screen
    shownSeq = msg.seq;
    if (msg.model_version !== undefined && msg.model_version !== null) setVersion(msg.model_version);
    renderPrediction(msg);
  });

  socket.on("error", (msg) => {
    const text = msg && msg.error ? msg.error : String(msg);
    // Errors for frames we have already superseded are not worth showing.
    if (msg && typeof msg.seq === "number" && msg.seq < shownSeq) return;
    showError(`Server: ${text}`);
  });

  socket.on("model_activated", (msg) => {
    if (!msg) return;
    setVersion(msg.version);
    flashNotice(`Model v${msg.version} is now live`);
    if (admin.open) loadModels();
  });

  // ================================================================ feedback
  for (let d = 0; d < 10; d++) {
    const b = document.createElement("button");
    b.type = "button";
    b.className = "fb-btn";
    b.textContent = String(d);
    b.setAttribute("aria-label", `It was a ${d}`);
    b.addEventListener("click", () => sendFeedback(d));
    feedbackButtons.appendChild(b);
  }

  async function sendFeedback(label) {
    if (!lastFrame) {
      feedbackStatus.textContent = "Draw a digit first.";
      feedbackStatus.className = "feedback-status warn";
      return;
    }
    const buttons = feedbackButtons.querySelectorAll("button");
    buttons.forEach((b) => { b.disabled = true; });
    feedbackStatus.className = "feedback-status";
    feedbackStatus.textContent = "Sending…";
    try {
      const res = await fetch("/api/feedback", {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify({ image: lastFrame, label }),
      });
      const body = await res.json().catch(() => ({}));
      if (res.ok) {
        const count = body.count !== undefined ? ` (${body.count} collected)` : "";
        feedbackStatus.textContent = `Thanks! Saved as a ${label}${count}.`;
        feedbackStatus.className = "feedback-status ok";
      } else {
        feedbackStatus.textContent = `Could not save: ${body.error || res.status}`;
        feedbackStatus.className = "feedback-status warn";
      }
    } catch (e) {
      feedbackStatus.textContent = `Could not save: ${e.message}`;
      feedbackStatus.className = "feedback-status warn";
    } finally {
      buttons.forEach((b) => { b.disabled = false; });
    }
  }

  // ================================================================ admin
  const admin = $("#admin");
  const tokenInput = $("#token");
  const epochsInput = $("#epochs");
  const retrainBtn = $("#retrain");
  const trainStatus = $("#train-status");
  const chart = $("#train-chart");
  const modelsBody = $("#models tbody");
  const modelsStatus = $("#models-status");

  try { tokenInput.value = localStorage.getItem(TOKEN_KEY) || ""; } catch (e) { /* storage blocked */ }
  tokenInput.addEventListener("input", () => {
    try { localStorage.setItem(TOKEN_KEY, tokenInput.value.trim()); } catch (e) { /* ignore */ }
  });

  function authHeaders(extra) {
    return Object.assign({ Authorization: `Bearer ${tokenInput.value.trim()}` }, extra || {});
  }

  // --- training job -------------------------------------------------------
  let trainJob = null;     // job id we follow
  let trainEpochs = 0;     // total epochs of that job (from events)
  let trainHistory = [];   // index epoch-1 -> metrics dict
  let trainDone = false;
  let pollTimer = null;

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
    if (admin.open) loadModels();
  }

  socket.on("train_progress", (msg) => {
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
  });

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

  // Plain canvas line chart of accuracy and val_accuracy per epoch.
  function drawChart() {
    const dpr = Math.min(window.devicePixelRatio || 1, 2);
    const cssW = chart.clientWidth || 400;
    const cssH = chart.clientHeight || 200;
    if (chart.width !== Math.round(cssW * dpr)) chart.width = Math.round(cssW * dpr);
    if (chart.height !== Math.round(cssH * dpr)) chart.height = Math.round(cssH * dpr);
    const c = chart.getContext("2d");
    c.setTransform(dpr, 0, 0, dpr, 0, 0);
    c.clearRect(0, 0, cssW, cssH);

    const pad = { l: 40, r: 10, t: 10, b: 24 };
    const w = cssW - pad.l - pad.r;
    const h = cssH - pad.t - pad.b;
    const series = [
      { key: "accuracy", color: "#2563eb" },
      { key: "val_accuracy", color: "#ea580c" },
    ];
    const values = [];
    trainHistory.forEach((m) => series.forEach((s) => {
      if (m && Number.isFinite(m[s.key])) values.push(m[s.key]);
    }));
    // Zoom the y-axis to the data (accuracies cluster near 1), in steps of 0.1.
    const yMin = values.length ? Math.max(0, Math.floor(Math.min(...values) * 10 - 0.5) / 10) : 0;
    const yMax = 1;
    const n = Math.max(trainEpochs, trainHistory.length, 1);
    const xOf = (i) => pad.l + (n === 1 ? w / 2 : (i * w) / (n - 1));
    const yOf = (v) => pad.t + h - ((v - yMin) / (yMax - yMin)) * h;

    // axes and grid
    c.font = "11px system-ui, sans-serif";
    c.fillStyle = "#6b7280";
    c.strokeStyle = "#e5e7eb";
    c.lineWidth = 1;
    c.textAlign = "right";
    c.textBaseline = "middle";
    for (let k = 0; k <= 4; k++) {
      const v = yMin + ((yMax - yMin) * k) / 4;
      const y = yOf(v);
      c.beginPath(); c.moveTo(pad.l, y); c.lineTo(pad.l + w, y); c.stroke();
      c.fillText(v.toFixed(2), pad.l - 4, y);
    }
    c.textAlign = "center";
    c.textBaseline = "top";
    const step = Math.ceil(n / 10);
    for (let i = 0; i < n; i += step) c.fillText(String(i + 1), xOf(i), pad.t + h + 6);

    if (!values.length) {
      c.fillStyle = "#9ca3af";
      c.textBaseline = "middle";
      c.fillText(trainJob ? "waiting for the first epoch…" : "no training yet",
        pad.l + w / 2, pad.t + h / 2);
      return;
    }
    for (const s of series) {
      c.strokeStyle = s.color;
      c.fillStyle = s.color;
      c.lineWidth = 2;
      c.beginPath();
      let started = false;
      trainHistory.forEach((m, i) => {
        if (!m || !Number.isFinite(m[s.key])) return;
        const x = xOf(i), y = yOf(m[s.key]);
        if (started) c.lineTo(x, y); else { c.moveTo(x, y); started = true; }
      });
      c.stroke();
      trainHistory.forEach((m, i) => {
        if (!m || !Number.isFinite(m[s.key])) return;
        c.beginPath(); c.arc(xOf(i), yOf(m[s.key]), 3, 0, Math.PI * 2); c.fill();
      });
    }
  }

  // --- models list --------------------------------------------------------
  // A reload (e.g. on model_activated) must not wipe a message set meanwhile by
  // activateModel, so only the "Loading…" this call wrote is cleared.
  async function loadModels() {
    const loading = modelsStatus.textContent ? null : "Loading…";
    if (loading) modelsStatus.textContent = loading;
    try {
      const res = await fetch("/api/models");
      const body = await res.json().catch(() => ({}));
      if (!res.ok) {
        modelsStatus.textContent = `Could not load models: ${body.error || res.status}`;
        return;
      }
      renderModels(body);
      if (loading && modelsStatus.textContent === loading) modelsStatus.textContent = "";
    } catch (e) {
      modelsStatus.textContent = `Could not load models: ${e.message}`;
    }
  }

  function renderModels(body) {
    modelsBody.replaceChildren();
    const versions = Array.isArray(body.versions) ? body.versions.slice() : [];
    versions.sort((a, b) => b.version - a.version);
    if (!versions.length) {
      const tr = modelsBody.insertRow();
      const td = tr.insertCell();
      td.colSpan = 5;
      td.textContent = "No models yet.";
      return;
    }
    for (const m of versions) {
      const active = m.status === "active" || m.version === body.active;
      const tr = modelsBody.insertRow();
      tr.insertCell().textContent = `v${m.version}`;
      tr.insertCell().textContent = typeof m.test_accuracy === "number"
        ? `${(m.test_accuracy * 100).toFixed(2)}%` : "–";
      const created = m.created ? new Date(m.created) : null;
      tr.insertCell().textContent = created && !isNaN(created) ? created.toLocaleString() : (m.created || "–");
      const st = tr.insertCell();
      const badge = document.createElement("span");
      badge.className = `badge badge-${active ? "active" : m.status}`;
      badge.textContent = active ? "active" : m.status || "?";
      st.appendChild(badge);
      const act = tr.insertCell();
      const btn = document.createElement("button");
      btn.type = "button";
      btn.className = "small";
      btn.textContent = active ? "active" : "activate";
      btn.disabled = active;
      btn.addEventListener("click", () => activateModel(m.version, btn));
      act.appendChild(btn);
    }
  }

  async function activateModel(version, btn) {
    btn.disabled = true;
    modelsStatus.textContent = `Activating v${version}…`;
    try {
      const res = await fetch(`/api/models/${encodeURIComponent(version)}/activate`, {
        method: "POST",
        headers: authHeaders(),
      });
      const body = await res.json().catch(() => ({}));
      if (res.ok) {
        setVersion(body.active !== undefined ? body.active : version);
        modelsStatus.textContent = `v${body.active !== undefined ? body.active : version} is active.`;
        await loadModels();
        modelsStatus.textContent = `v${modelVersion} is active.`;
      } else if (res.status === 401 || res.status === 403) {
        modelsStatus.textContent = "Rejected: bad or missing admin token.";
        btn.disabled = false;
      } else {
        modelsStatus.textContent = `Could not activate: ${body.error || res.status}`;
        btn.disabled = false;
      }
    } catch (e) {
      modelsStatus.textContent = `Could not activate: ${e.message}`;
      btn.disabled = false;
    }
  }

  admin.addEventListener("toggle", () => {
    if (admin.open) {
      loadModels();
      drawChart(); // the canvas had no layout size while the <details> was closed
    }
  });
  $("#models-refresh").addEventListener("click", loadModels);
  // Enter in a field must not submit (and reload) the page; it starts training instead.
  $("#admin-form").addEventListener("submit", (ev) => { ev.preventDefault(); retrainBtn.click(); });

  // ================================================================ init
  setupCanvas();
  buildBars();
  renderPrediction({ digit: null });
  setConn(socket.connected ? "connected" : "connecting…");
  setVersion(null);
  versionEl.textContent = "–";

  // Live view for tests and debugging.
  window.digitflow = {
    get lastSeq() { return lastSeq; },
    get shownSeq() { return shownSeq; },
    socket,
  };
})();
