/* digitflow — batch page.
 *
 * Pick or drop many images (or a folder), upload them as multipart field `images`
 * to /api/batches, follow progress via Socket.IO `batch_progress` (with polling of
 * GET /api/batches/<id> as a fallback and as the source of the results), show a
 * results table and offer CSV/JSON downloads built client-side.
 */
(function () {
  "use strict";

  const POLL_MS = 1000;
  const IMAGE_EXT = /\.(png|jpe?g|gif|bmp|webp|tiff?|pgm|ppm|pbm|pnm)$/i;

  const $ = (sel) => document.querySelector(sel);
  const drop = $("#drop");
  const fileInput = $("#files");
  const pickDir = $("#pick-dir");
  const progress = $("#progress");
  const statusEl = $("#batch-status");
  const tbody = $("#results tbody");
  const csvBtn = $("#download-csv");
  const jsonBtn = $("#download-json");
  const connEl = $("#conn");
  const connDot = $("#conn-dot");

  // ---------------------------------------------------------------- state
  let batchId = null;
  let files = [];        // File objects in submission order (index = server's index)
  let thumbs = [];       // object URLs, revoked when a new batch starts
  let results = [];      // index -> server result
  let rows = [];         // index -> {tr, digit, conf}
  let finished = false;
  let pollTimer = null;
  let uploading = false;
  let skippedNote = "";  // "(skipped N non-image files)" for the status line

  // ---------------------------------------------------------------- socket
  // Websocket first, long-polling when websockets are blocked: the same options as
  // draw/socket.js (SOCKET_OPTIONS), which says why.
  const socket = io({ transports: ["websocket", "polling"], tryAllTransports: true });
  function setConn(state) {
    connEl.textContent = state;
    connDot.className = "dot " + ({ connected: "dot-on", disconnected: "dot-off" }[state] || "dot-wait");
  }
  socket.on("connect", () => {
    setConn("connected");
    // (Re-)subscribe after a reconnect so progress events keep coming.
    if (batchId && !finished) socket.emit("subscribe", { batch_id: batchId });
  });
  socket.on("disconnect", (reason) => {
    if (reason === "io server disconnect") socket.connect();
    setConn(reason === "io client disconnect" ? "disconnected" : "reconnecting");
  });
  socket.io.on("reconnect_attempt", () => setConn("reconnecting"));
  socket.io.on("reconnect_failed", () => setConn("disconnected"));

  socket.on("batch_progress", (msg) => {
    if (!msg || msg.batch_id !== batchId || finished) return;
    setProgress(msg.done, msg.total);
    // Counts only come with events; the actual results come from GET, so fetch
    // now when the batch looks complete instead of waiting for the next poll.
    if (msg.total && msg.done >= msg.total) poll();
  });

  // ---------------------------------------------------------------- picking files
  pickDir.addEventListener("change", () => {
    // webkitdirectory turns the picker into a folder picker (all files inside, recursively).
    fileInput.toggleAttribute("webkitdirectory", pickDir.checked);
    fileInput.value = "";
  });

  fileInput.addEventListener("change", () => {
    if (fileInput.files && fileInput.files.length) startBatch(Array.from(fileInput.files));
    fileInput.value = ""; // so picking the same files again still fires `change`
  });

  drop.addEventListener("click", () => fileInput.click());
  drop.addEventListener("keydown", (ev) => {
    if (ev.key === "Enter" || ev.key === " ") { ev.preventDefault(); fileInput.click(); }
  });

  // dragenter/dragleave fire for child elements too; a counter keeps the highlight stable.
  let dragDepth = 0;
  drop.addEventListener("dragenter", (ev) => { ev.preventDefault(); dragDepth++; drop.classList.add("over"); });
  drop.addEventListener("dragover", (ev) => { ev.preventDefault(); ev.dataTransfer.dropEffect = "copy"; });
  drop.addEventListener("dragleave", () => { if (--dragDepth <= 0) { dragDepth = 0; drop.classList.remove("over"); } });
  drop.addEventListener("drop", async (ev) => {
    ev.preventDefault();
    dragDepth = 0;
    drop.classList.remove("over");
    const dropped = await filesFromDataTransfer(ev.dataTransfer);
    if (dropped.length) startBatch(dropped);
  });
  // A file dropped next to the zone must not make the browser navigate away.
  window.addEventListener("dragover", (ev) => ev.preventDefault());
  window.addEventListener("drop", (ev) => ev.preventDefault());

  // Dropped folders only show up as entries; walk them recursively.
  async function filesFromDataTransfer(dt) {
    const items = dt.items ? Array.from(dt.items) : [];
    const entries = items.map((it) => (it.webkitGetAsEntry ? it.webkitGetAsEntry() : null));
    if (!entries.some((e) => e && e.isDirectory)) return Array.from(dt.files || []);
    const out = [];
    for (const e of entries) if (e) await walkEntry(e, out);
    return out;
  }

  function walkEntry(entry, out) {
    if (entry.isFile) {
      return new Promise((resolve) => entry.file((f) => {
        // Keep the relative path as the display name for files found in folders.
        try { Object.defineProperty(f, "displayName", { value: entry.fullPath.replace(/^\//, "") }); } catch (e) { /* ignore */ }
        out.push(f); resolve();
      }, () => resolve()));
    }
    const reader = entry.createReader();
    // readEntries returns at most ~100 entries per call: keep reading until empty.
    return new Promise((resolve) => {
      const batch = [];
      const readMore = () => reader.readEntries(async (ents) => {
        if (!ents.length) {
          batch.sort((a, b) => a.name.localeCompare(b.name, undefined, { numeric: true }));
          for (const e of batch) await walkEntry(e, out);
          resolve();
        } else { batch.push(...ents); readMore(); }
      }, () => resolve());
      readMore();
    });
  }

  function nameOf(f) {
    return f.displayName || f.webkitRelativePath || f.name;
  }

  function isImage(f) {
    return (f.type && f.type.startsWith("image/")) || IMAGE_EXT.test(f.name);
  }

  // ---------------------------------------------------------------- batch lifecycle
  function resetBatch() {
    clearInterval(pollTimer);
    pollTimer = null;
    thumbs.forEach((u) => URL.revokeObjectURL(u));
    thumbs = [];
    results = [];
    rows = [];
    batchId = null;
    finished = false;
    tbody.replaceChildren();
    csvBtn.disabled = true;
    jsonBtn.disabled = true;
    progress.value = 0;
    progress.max = 1;
  }

  function startBatch(picked) {
    if (uploading) return;
    const images = picked.filter(isImage);
    const skipped = picked.length - images.length;
    if (!images.length) {
      statusEl.textContent = "No image files in that selection.";
      return;
    }
    resetBatch();
    files = images;
    buildRows();
    upload(skipped);
  }

  function buildRows() {
    files.forEach((f, i) => {
      const tr = tbody.insertRow();
      tr.insertCell().textContent = String(i);
      const imgCell = tr.insertCell();
      const img = document.createElement("img");
      img.className = "thumb";
      img.alt = "";
      img.loading = "lazy";
      const url = URL.createObjectURL(f);
      thumbs.push(url);
      img.src = url;
      imgCell.appendChild(img);
      tr.insertCell().textContent = nameOf(f);
      const digit = tr.insertCell();
      digit.textContent = "…";
      digit.className = "pending";
      const conf = tr.insertCell();
      conf.className = "pending";
      rows.push({ tr, digit, conf });
    });
  }

  // XHR rather than fetch: it reports upload progress, which matters for big batches.
  function upload(skipped) {
    uploading = true;
    const form = new FormData();
    files.forEach((f) => form.append("images", f, nameOf(f).split("/").pop()));
    const note = skipped ? ` (skipped ${skipped} non-image file${skipped > 1 ? "s" : ""})` : "";
    skippedNote = note;
    statusEl.textContent = `Uploading ${files.length} image${files.length > 1 ? "s" : ""}…${note}`;

    const xhr = new XMLHttpRequest();
    xhr.open("POST", "/api/batches");
    xhr.responseType = "json";
    xhr.upload.onprogress = (ev) => {
      if (ev.lengthComputable) {
        progress.max = ev.total;
        progress.value = ev.loaded;
        statusEl.textContent = `Uploading… ${Math.round((100 * ev.loaded) / ev.total)}%${note}`;
      }
    };
    xhr.onload = () => {
      uploading = false;
      const body = xhr.response || {};
      if (xhr.status === 202 || (xhr.status >= 200 && xhr.status < 300 && body.batch_id)) {
        batchId = body.batch_id;
        if (typeof body.total === "number" && body.total !== files.length) {
          // The server is the authority on what was accepted; say so rather than guess.
          statusEl.textContent = `Server accepted ${body.total} of ${files.length} files.`;
        }
        setProgress(0, body.total || files.length);
        socket.emit("subscribe", { batch_id: batchId });
        pollTimer = setInterval(poll, POLL_MS);
        poll();
      } else {
        failAll(`Upload failed: ${body.error || `HTTP ${xhr.status}`}`);
      }
    };
    xhr.onerror = () => { uploading = false; failAll("Upload failed: network error."); };
    xhr.send(form);
  }

  function failAll(text) {
    statusEl.textContent = text;
    progress.value = 0;
    rows.forEach((r) => { r.digit.textContent = "—"; r.conf.textContent = ""; });
  }

  function setProgress(done, total) {
    if (typeof total === "number" && total > 0) progress.max = total;
    if (typeof done === "number") progress.value = Math.min(done, progress.max);
    if (!finished && typeof done === "number") {
      statusEl.textContent = `Classified ${done} of ${total || progress.max}…`;
    }
  }

  async function poll() {
    if (!batchId || finished) return;
    const id = batchId;
    let body;
    try {
      const res = await fetch(`/api/batches/${encodeURIComponent(id)}`);
      if (!res.ok) return; // transient (or not yet registered): try again next tick
      body = await res.json();
    } catch (e) {
      return;
    }
    if (id !== batchId || finished) return;
    if (Array.isArray(body.results)) body.results.forEach((r, i) => applyResult(r, i));
    setProgress(body.done, body.total);
    if (body.status === "done" || body.status === "failed") finish(body);
  }

  function applyResult(r, pos) {
    if (!r) return;
    const i = Number.isInteger(r.index) ? r.index : pos;
    results[i] = r;
    const row = rows[i];
    if (!row) return;
    if (r.error) {
      row.digit.textContent = r.error;
      row.digit.className = "err";
      row.digit.colSpan = 2;
      row.conf.hidden = true;
    } else if (r.digit !== undefined) {
      row.digit.colSpan = 1;
      row.conf.hidden = false;
      row.digit.textContent = r.digit === null ? "—" : String(r.digit);
      row.digit.className = "big-digit";
      const c = confidence(r);
      row.conf.textContent = c === null ? "" : `${(c * 100).toFixed(1)}%`;
      row.conf.className = "";
    }
    if (results.some(Boolean)) { csvBtn.disabled = false; jsonBtn.disabled = false; }
  }

  function finish(body) {
    finished = true;
    clearInterval(pollTimer);
    pollTimer = null;
    const errors = results.filter((r) => r && r.error).length;
    if (body.status === "done") {
      progress.value = progress.max;
      statusEl.textContent = `Done: ${body.total ?? files.length} images` +
        (errors ? `, ${errors} could not be classified.` : ".") + skippedNote;
    } else {
      statusEl.textContent = `Batch failed${body.error ? `: ${body.error}` : "."}`;
    }
    // Anything the server never answered for stays visibly unanswered.
    rows.forEach((r, i) => {
      if (!results[i]) { r.digit.textContent = "—"; r.digit.className = "pending"; }
    });
    if (results.some(Boolean)) { csvBtn.disabled = false; jsonBtn.disabled = false; }
  }

  function confidence(r) {
    if (!r || r.digit === null || r.digit === undefined || !Array.isArray(r.probabilities)) return null;
    const p = r.probabilities[r.digit];
    return typeof p === "number" ? p : null;
  }

  // ---------------------------------------------------------------- downloads
  function records() {
    return files.map((f, i) => {
      const r = results[i] || {};
      return {
        index: i,
        file: nameOf(f),
        digit: r.error ? null : (r.digit ?? null),
        confidence: r.error ? null : confidence(r),
        probabilities: r.probabilities ?? null,
        model_version: r.model_version ?? null,
        error: r.error ?? (results[i] ? null : "no result"),
      };
    });
  }

  function csvField(v) {
    if (v === null || v === undefined) return "";
    const s = String(v);
    return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
  }

  function download(name, type, text) {
    const url = URL.createObjectURL(new Blob([text], { type }));
    const a = document.createElement("a");
    a.href = url;
    a.download = name;
    document.body.appendChild(a);
    a.click();
    a.remove();
    // Revoke later: revoking synchronously can cancel the download in some browsers.
    setTimeout(() => URL.revokeObjectURL(url), 10000);
  }

  csvBtn.addEventListener("click", () => {
    const lines = ["index,file,digit,confidence,error"];
    for (const r of records()) {
      lines.push([r.index, r.file, r.digit, r.confidence === null ? null : r.confidence.toFixed(6), r.error]
        .map(csvField).join(","));
    }
    download(`digitflow-${batchId || "batch"}.csv`, "text/csv", lines.join("\r\n") + "\r\n");
  });

  jsonBtn.addEventListener("click", () => {
    const doc = { batch_id: batchId, results: records() };
    download(`digitflow-${batchId || "batch"}.json`, "application/json", JSON.stringify(doc, null, 2));
  });

  window.digitflowBatch = {
    get batchId() { return batchId; },
    get results() { return results.slice(); },
    socket,
  };
})();
