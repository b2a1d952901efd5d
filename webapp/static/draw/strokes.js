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

/** Each stroke's horizontal extent, brush included, as [x0, x1] fractions of `width`
 * (what a `draw` in number mode carries as `strokes`). */
export function strokeSpans(width, brush) {
  const clamp = (v) => Math.max(0, Math.min(1, v));
  return strokes.map((s) => {
    let lo = Infinity;
    let hi = -Infinity;
    for (const p of s) {
      lo = Math.min(lo, p.x);
      hi = Math.max(hi, p.x);
    }
    const a = clamp((lo - brush / 2) / width);
    const b = clamp((hi + brush / 2) / width);
    return [Math.round(a * 1e4) / 1e4, Math.round(Math.max(a, b) * 1e4) / 1e4];
  });
}
