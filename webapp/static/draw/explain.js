/* "What did the model look at?": the explain toggle, and the saliency map painted over the
 * 28x28 preview (issue 12). With the toggle on, live frames carry `explain: true` and each
 * answer brings `saliency` (28x28 floats, 0 to 1): the more a pixel mattered to the
 * predicted digit, the redder it is painted. */
const toggle = document.querySelector("#explain");

/** Whether the user asked for saliency (live.js adds `explain: true` to each frame). */
export function explainRequested() {
  return Boolean(toggle && toggle.checked);
}

/** Tint the preview already painted on `ctx` with a 28x28 saliency map (ignored unless
 * the toggle is on and the map is well formed). */
export function paintSaliency(ctx, saliency) {
  if (!explainRequested() || !Array.isArray(saliency) || saliency.length !== 28) return;
  const img = ctx.getImageData(0, 0, 28, 28);
  const d = img.data;
  for (let y = 0; y < 28; y++) {
    const row = saliency[y];
    if (!Array.isArray(row) || row.length !== 28) return;
    for (let x = 0; x < 28; x++) {
      const s = Math.max(0, Math.min(1, Number(row[x]) || 0));
      const p = (y * 28 + x) * 4;
      const v = d[p];
      d[p] = Math.round(v * (1 - s) + 255 * s);          // towards red
      d[p + 1] = Math.round(v * (1 - s) + 40 * s);
      d[p + 2] = Math.round(v * (1 - s) + 40 * s);
    }
  }
  ctx.putImageData(img, 0, 0);
}

/** Re-send the drawing when the toggle changes, so the map appears (or goes) at once. */
export function initExplain(onChange) {
  if (toggle) toggle.addEventListener("change", onChange);
}
