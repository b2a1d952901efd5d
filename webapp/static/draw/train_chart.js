/* The training chart: a plain canvas line chart of accuracy per epoch, no library. */
import { fitCanvas, yGrid } from "./chart_canvas.js";
const chart = document.querySelector("#train-chart");

/** Plot accuracy and val_accuracy per epoch; `history[epoch-1]` is that epoch's metrics. */
export function plotAccuracy(history, epochs, following) {
  const { c, cssW, cssH } = fitCanvas(chart, 200);

  const pad = { l: 40, r: 10, t: 10, b: 24 };
  const w = cssW - pad.l - pad.r;
  const h = cssH - pad.t - pad.b;
  const series = [
    { key: "accuracy", color: "#2563eb" },
    { key: "val_accuracy", color: "#ea580c" },
  ];
  const values = [];
  history.forEach((m) => series.forEach((s) => {
    if (m && Number.isFinite(m[s.key])) values.push(m[s.key]);
  }));
  // Zoom the y-axis to the data (accuracies cluster near 1), in steps of 0.1.
  const yMin = values.length ? Math.max(0, Math.floor(Math.min(...values) * 10 - 0.5) / 10) : 0;
  const yMax = 1;
  const n = Math.max(epochs, history.length, 1);
  const xOf = (i) => pad.l + (n === 1 ? w / 2 : (i * w) / (n - 1));
  const yOf = (v) => pad.t + h - ((v - yMin) / (yMax - yMin)) * h;

  yGrid(c, pad, w, yOf, yMin, yMax, (v) => v.toFixed(2)); // axes and grid
  const step = Math.ceil(n / 10);
  for (let i = 0; i < n; i += step) c.fillText(String(i + 1), xOf(i), pad.t + h + 6);

  if (!values.length) {
    c.fillStyle = "#9ca3af";
    c.textBaseline = "middle";
    c.fillText(following ? "waiting for the first epoch…" : "no training yet",
      pad.l + w / 2, pad.t + h / 2);
    return;
  }
  for (const s of series) {
    c.strokeStyle = s.color;
    c.fillStyle = s.color;
    c.lineWidth = 2;
    c.beginPath();
    let started = false;
    history.forEach((m, i) => {
      if (!m || !Number.isFinite(m[s.key])) return;
      const x = xOf(i), y = yOf(m[s.key]);
      if (started) c.lineTo(x, y); else { c.moveTo(x, y); started = true; }
    });
    c.stroke();
    history.forEach((m, i) => {
      if (!m || !Number.isFinite(m[s.key])) return;
      c.beginPath(); c.arc(xOf(i), yOf(m[s.key]), 3, 0, Math.PI * 2); c.fill();
    });
  }
}

