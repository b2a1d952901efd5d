/* The drawing surface: pointer strokes on #canvas (white ink on black) and the frame to send.
 *
 * Internal resolution follows devicePixelRatio (capped at 2) so strokes are crisp; pointer
 * coordinates are mapped from CSS pixels with the element's bounding rect, so this also works
 * when CSS shrinks the canvas on narrow screens. Every stroke is also kept (strokes.js), so the
 * last one can be undone: the canvas is then redrawn from the strokes that are left.
 * Number mode makes the canvas WIDE times as wide as it is high; the frame keeps that shape.
 */
import { allStrokes, beginStroke, clearStrokes, extendStroke, strokeCount, strokeSpans, undoStroke } from "./strokes.js";

const FRAME_SIZE = 112;         // frames sent are FRAME_SIZE high (and as wide, in digit mode)
const STROKE_FRACTION = 1 / 13; // stroke width relative to canvas height (MNIST-like after 20x20 fit)
const WIDE = 4;                 // number mode: width / height of the canvas and of its frame

const canvas = document.querySelector("#canvas");
const ctx = canvas.getContext("2d");

// Offscreen canvas used to downsample the drawing before sending it.
const frameCanvas = document.createElement("canvas");
frameCanvas.width = FRAME_SIZE;
frameCanvas.height = FRAME_SIZE;
const frameCtx = frameCanvas.getContext("2d", { willReadFrequently: true });

let activePointer = null;  // only one pointer draws at a time (ignore a second finger)
let lastPoint = null;
let wide = false;          // number mode: a WIDE:1 canvas

/** Anything drawn since the last wipe? */
export function hasInk() {
  return strokeCount() > 0;
}

function paintBlack() {
  ctx.save();
  ctx.fillStyle = "#000";
  ctx.fillRect(0, 0, canvas.width, canvas.height);
  ctx.restore();
}

/** Paint the surface black and forget the ink. */
export function wipe() {
  paintBlack();
  clearStrokes();
}

/** Undo the last stroke: redraw the canvas from the strokes left; false when there was none. */
export function undoLastStroke() {
  if (activePointer !== null) return false; // not in the middle of a stroke
  if (!undoStroke()) return false;
  paintBlack();
  for (const stroke of allStrokes()) {
    dot(stroke[0]);
    for (let i = 1; i < stroke.length; i++) segment(stroke[i - 1], stroke[i]);
  }
  return true;
}

/** Switch between the square digit canvas and the wide number canvas (wipes the drawing). */
export function setWide(on) {
  wide = on;
  canvas.classList.toggle("wide", on);
  setupCanvas();
}

/** Each stroke's box as [x0, x1, y0, y1] fractions of the canvas (number mode). */
export function strokeExtents() {
  return strokeSpans(canvas.width, canvas.height, ctx.lineWidth);
}

/** Downsample into FRAME_SIZE^2 and return it as a PNG data URL: a string of ~2 KB instead of
 * a 12,544-number JSON array (~40 KB, parsed and re-encoded at every hop). White ink on an
 * opaque black background, so the server reads it as ink-high. A string, not a binary
 * attachment: binary Socket.IO frames stall ~40 ms on localhost (Nagle / delayed ACK). */
export function grabFrame() {
  const width = wide ? FRAME_SIZE * WIDE : FRAME_SIZE;
  if (frameCanvas.width !== width) frameCanvas.width = width;
  frameCtx.imageSmoothingEnabled = true;
  frameCtx.imageSmoothingQuality = "high";
  frameCtx.drawImage(canvas, 0, 0, width, FRAME_SIZE);
  return frameCanvas.toDataURL("image/png");
}

function setupCanvas() {
  const dpr = Math.min(window.devicePixelRatio || 1, 2);
  const size = Math.round(280 * dpr);
  canvas.width = wide ? size * WIDE : size;
  canvas.height = size;
  ctx.lineCap = "round";
  ctx.lineJoin = "round";
  ctx.strokeStyle = "#fff";
  ctx.fillStyle = "#fff";
  ctx.lineWidth = size * STROKE_FRACTION;
  wipe();
}

function toCanvasPoint(ev) {
  const r = canvas.getBoundingClientRect();
  return {
    x: ((ev.clientX - r.left) * canvas.width) / r.width,
    y: ((ev.clientY - r.top) * canvas.height) / r.height,
  };
}

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

/** Size the surface and start listening: `onInk` while drawing, `onStrokeEnd` at the end. */
export function initCanvas({ onInk, onStrokeEnd }) {
  canvas.addEventListener("pointerdown", (ev) => {
    if (activePointer !== null) return;
    if (ev.pointerType === "mouse" && ev.button !== 0) return;
    ev.preventDefault();
    activePointer = ev.pointerId;
    // Capture so the stroke continues (and ends properly) when the pointer leaves the canvas.
    canvas.setPointerCapture(ev.pointerId);
    lastPoint = toCanvasPoint(ev);
    beginStroke(lastPoint);
    dot(lastPoint); // a tap leaves a mark, like a pen
    onInk();
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
      extendStroke(p);
      lastPoint = p;
    }
    onInk();
  });

  function endStroke(ev) {
    if (ev.pointerId !== activePointer) return;
    activePointer = null;
    lastPoint = null;
    onStrokeEnd(); // always send once at the end of a stroke so the final shape is classified
  }
  canvas.addEventListener("pointerup", endStroke);
  canvas.addEventListener("pointercancel", endStroke);
  canvas.addEventListener("lostpointercapture", endStroke);
  // No context menu / long-press menu on the drawing surface.
  canvas.addEventListener("contextmenu", (ev) => ev.preventDefault());
  setupCanvas();
}
