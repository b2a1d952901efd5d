/* The operator's view in the admin panel: workers, queue depths, live answer latency over
   the last minute (a plain canvas chart, no library), recent batches and training jobs.
   Polled from GET /api/admin/status with the admin token, only while the panel is open. */
import { fitCanvas, yGrid } from "./chart_canvas.js";
import { authHeaders } from "./admin_token.js";

const POLL_MS = 3000;
const $ = (sel) => document.querySelector(sel);
const opsStatus = $("#ops-status");
const chart = $("#ops-latency");
let timer = null;
let lastLatency = null;

/** Poll now and every few seconds (the admin panel was opened). */
export function startOps() {
  if (timer !== null) return;
  refreshOps();
  timer = setInterval(refreshOps, POLL_MS);
}

/** Stop polling (the admin panel was closed). */
export function stopOps() {
  clearInterval(timer);
  timer = null;
}

async function refreshOps() {
  try {
    const res = await fetch("/api/admin/status", { headers: authHeaders() });
    const body = await res.json().catch(() => ({}));
    if (res.status === 401) {
      opsStatus.textContent = "Paste the admin token above to see the system.";
      return;
    }
    if (!res.ok) {
      opsStatus.textContent = `Could not load the status: ${body.error || res.status}`;
      return;
    }
    render(body);
    opsStatus.textContent = `Updated ${new Date().toLocaleTimeString()}`;
  } catch (e) {
    opsStatus.textContent = `Could not load the status: ${e.message}`;
  }
}

function fillRows(tbody, rows, empty, columns) {
  tbody.replaceChildren();
  if (!rows.length) {
    const td = tbody.insertRow().insertCell();
    td.colSpan = columns;
    td.textContent = empty;
    return;
  }
  for (const cells of rows) {
    const tr = tbody.insertRow();
    for (const text of cells) tr.insertCell().textContent = text;
  }
}

const num = (v, digits = 1) => (typeof v === "number" ? v.toFixed(digits) : "–");
const when = (t) => (typeof t === "number" ? new Date(t * 1000).toLocaleTimeString() : "–");
const shortId = (id) => (typeof id === "string" ? id.slice(0, 8) : "–");

function render(body) {
  fillRows($("#ops-workers tbody"), (body.workers || []).map((w) => [
    w.name, w.version === null || w.version === undefined ? "–" : `v${w.version}`,
    num(w.items_per_s), `${num(w.heartbeat_age_s)} s ago`,
  ]), "No worker is consuming the queue.", 4);

  const queues = body.queues || {};
  const order = ["live", "batch", "training"].filter((q) => q in queues)
    .concat(Object.keys(queues).filter((q) => !["live", "batch", "training"].includes(q)));
  $("#ops-queues").textContent = order.map((q) => `${q} ${queues[q]}`)
    .concat(`being worked on ${body.unacked ?? "–"}`).join(" · ");

  const lat = body.latency || {};
  $("#ops-latency-text").textContent = lat.count
    ? `p50 ${num(lat.p50_ms)} ms · p99 ${num(lat.p99_ms)} ms (${lat.count} answers, last ${lat.window_s} s)`
    : `no live answers in the last ${lat.window_s || 60} s`;
  lastLatency = lat;
  drawLatency();

  fillRows($("#ops-batches tbody"), (body.batches || []).map((b) => [
    shortId(b.batch_id), b.status, `${b.done}/${b.total}`, when(b.created),
  ]), "No batches yet.", 4);
  fillRows($("#ops-jobs tbody"), (body.train_jobs || []).map((j) => [
    shortId(j.job_id), j.status || "?", typeof j.progress === "number"
      ? `${Math.round(j.progress * 100)}%` : "–",
    j.version === null || j.version === undefined ? "–" : `v${j.version}`, when(j.created),
  ]), "No training jobs yet.", 5);
}

/** p50 and p99 per bucket of the last minute, oldest left; empty buckets leave gaps. */
export function drawLatency() {
  const series = (lastLatency && lastLatency.series) || [];
  const { c, cssW, cssH } = fitCanvas(chart, 140);
  const pad = { l: 52, r: 10, t: 10, b: 22 };
  const w = cssW - pad.l - pad.r;
  const h = cssH - pad.t - pad.b;
  const peak = Math.max(1, ...series.map((s) => s.p99_ms || 0));
  const yMax = niceCeil(peak);
  const n = Math.max(series.length, 2);
  const xOf = (i) => pad.l + (i * w) / (n - 1);
  const yOf = (v) => pad.t + h - (v / yMax) * h;

  yGrid(c, pad, w, yOf, 0, yMax,
        (v) => (v >= 1000 ? `${+(v / 1000).toFixed(2)} s` : `${+v.toFixed(1)} ms`));
  c.fillText("-60 s", pad.l, pad.t + h + 6);
  c.fillText("now", pad.l + w, pad.t + h + 6);
  for (const [key, color] of [["p50_ms", "#2563eb"], ["p99_ms", "#ea580c"]]) {
    c.strokeStyle = color;
    c.fillStyle = color;
    c.lineWidth = 2;
    c.beginPath();
    let drawing = false;
    series.forEach((s, i) => {
      const v = s[key];
      if (typeof v !== "number") { drawing = false; return; }
      if (drawing) c.lineTo(xOf(i), yOf(v)); else c.moveTo(xOf(i), yOf(v));
      drawing = true;
      c.fillRect(xOf(i) - 2, yOf(v) - 2, 4, 4);
    });
    c.stroke();
  }
}

function niceCeil(v) {
  const base = 10 ** Math.floor(Math.log10(v));
  for (const m of [1, 2, 5, 10]) if (m * base >= v) return m * base;
  return 10 * base;
}
