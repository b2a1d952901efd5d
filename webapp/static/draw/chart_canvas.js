/* One canvas set-up for the page's charts: sized to its CSS box at the screen's pixel ratio
   (capped at 2), cleared, and drawn in CSS pixels. */

/** Fit `canvas` to its box and clear it; returns the 2-D context and the box's size. */
export function fitCanvas(canvas, defaultHeight) {
  const dpr = Math.min(window.devicePixelRatio || 1, 2);
  const cssW = canvas.clientWidth || 400;
  const cssH = canvas.clientHeight || defaultHeight;
  if (canvas.width !== Math.round(cssW * dpr)) canvas.width = Math.round(cssW * dpr);
  if (canvas.height !== Math.round(cssH * dpr)) canvas.height = Math.round(cssH * dpr);
  const c = canvas.getContext("2d");
  c.setTransform(dpr, 0, 0, dpr, 0, 0);
  c.clearRect(0, 0, cssW, cssH);
  return { c, cssW, cssH };
}

/** The y axis both charts draw: 5 grid lines from yMin to yMax, each labelled by `label(v)`
 * left of the plot; leaves the text set for x labels (centred, below the plot). */
export function yGrid(c, pad, w, yOf, yMin, yMax, label) {
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
    c.fillText(label(v), pad.l - 4, y);
  }
  c.textAlign = "center";
  c.textBaseline = "top";
}
