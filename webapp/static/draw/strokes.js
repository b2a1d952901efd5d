/* The drawing as a list of strokes (points in canvas pixels), so a stroke can be undone and
 * the canvas redrawn from what is left, and so number mode can tell the server where each
 * stroke lies horizontally (strokes that overlap horizontally are one digit). */
const strokes = [];

/** Start a stroke at point p ({x, y}). */
export function beginStroke(p) {
  strokes.push([p]);
}

/** Add a point to the stroke being drawn. */
export function extendStroke(p) {
  if (strokes.length) strokes[strokes.length - 1].push(p);
}

/** Drop the last stroke; true when there was one. */
export function undoStroke() {
  return strokes.pop() !== undefined;
}

/** Forget every stroke. */
export function clearStrokes() {
  strokes.length = 0;
}

/** How many strokes the drawing has. */
export function strokeCount() {
  return strokes.length;
}

/** Every stroke, oldest first (for redrawing). */
export function allStrokes() {
  return strokes;
}

/** Each stroke's box, brush included, as [x0, x1, y0, y1] fractions of the canvas's width
 * and height (what a `draw` in number mode carries as `strokes`: strokes that overlap
 * horizontally are one digit, and a flat one, like a 5's bar, joins the digit below it). */
export function strokeSpans(width, height, brush) {
  const frac = (v, side) => Math.round(Math.max(0, Math.min(1, v / side)) * 1e4) / 1e4;
  return strokes.map((s) => {
    let x0 = Infinity;
    let x1 = -Infinity;
    let y0 = Infinity;
    let y1 = -Infinity;
    for (const p of s) {
      x0 = Math.min(x0, p.x);
      x1 = Math.max(x1, p.x);
      y0 = Math.min(y0, p.y);
      y1 = Math.max(y1, p.y);
    }
    const r = brush / 2;
    return [frac(x0 - r, width), frac(x1 + r, width), frac(y0 - r, height), frac(y1 + r, height)];
  });
}
