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
