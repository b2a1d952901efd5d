"""Draw pen strokes as the drawing page draws them, then prepare them as serving does.

The page (`webapp/static/draw.js`) strokes white on a black square canvas with a line width
of 1/13 of the canvas side, round caps and joins and the browser's anti-aliasing, and sends a
112x112 smoothed downsample of it to the server, which runs `shared.preprocess.to_mnist`. Here
the canvas is drawn at `SUPERSAMPLE` times the frame's resolution with PIL and box-filtered
down to the frame: each frame pixel gets the share of its area the stroke covers, which is
what anti-aliasing plus a smoothed downsample give. Random variants change where and how big
the digit sits in the box (so the relative width), the brush width, the pen speed (fewer
points: a polygonal path) and add jitter and a slant, as different people drawing would.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass

import numpy as np
from PIL import Image, ImageDraw

from shared.preprocess import to_mnist

FRAME = 112  # the page's frame side (FRAME_SIZE in draw.js)
STROKE_FRACTION = 1 / 13  # the page's line width relative to the canvas side
SUPERSAMPLE = 4


@dataclass(frozen=True)
class RenderConfig:
    """Ranges of the random variants; recorded in each model's meta.json."""

    size_min: float = 0.4  # digit height as a fraction of the box side
    size_max: float = 0.85
    width_min: float = 0.7  # brush width as a multiple of the page's
    width_max: float = 1.4
    max_step: int = 3  # keep every k-th point, k uniform in 1..max_step (a faster pen)
    jitter: float = 0.008  # point noise, as a fraction of the digit's height (sd)
    slant: float = 0.2  # horizontal shear, uniform in +-slant
    rotate: float = 8.0  # degrees, uniform in +-rotate

    def as_dict(self) -> dict[str, float]:
        """Plain dict for JSON metadata."""
        return asdict(self)


def draw_strokes(strokes: Sequence[np.ndarray], width: float, side: int = FRAME,
                 supersample: int = SUPERSAMPLE, shape: tuple[int, int] | None = None
                 ) -> np.ndarray:
    """Anti-aliased white-on-black rendering of strokes given in frame pixels (x right, y
    down); `width` is in frame pixels. Returns ink-high float32 (side, side) in 0..255, or
    `shape` (rows, columns) for a wide canvas such as the page's number mode."""
    rows, cols = shape if shape is not None else (side, side)
    canvas = Image.new("L", (cols * supersample, rows * supersample), 0)
    pen = ImageDraw.Draw(canvas)
    w = width * supersample
    r = w / 2.0
    for stroke in strokes:
        pts = [(float(x) * supersample, float(y) * supersample) for x, y in stroke]
        if len(pts) > 1:
            pen.line(pts, fill=255, width=max(1, round(w)))
        for x, y in pts:  # round caps and joins: a disc at every vertex
            pen.ellipse((x - r, y - r, x + r, y + r), fill=255)
    small = canvas.resize((cols, rows), Image.Resampling.BOX)
    return np.asarray(small, np.float32)


def tablet_to_screen(strokes: Sequence[np.ndarray]) -> list[np.ndarray]:
    """Flip the tablet's y axis (up) to the screen's (down)."""
    return [np.column_stack([s[:, 0], -s[:, 1]]) for s in strokes]


def _warp(strokes: list[np.ndarray], cfg: RenderConfig, rng: np.random.Generator
          ) -> list[np.ndarray]:
    """Drop points (speed), shear and rotate (slant), and jitter, in the digit's own units."""
    step = int(rng.integers(1, cfg.max_step + 1))
    kept = [s[np.unique(np.r_[np.arange(0, len(s), step), len(s) - 1])] for s in strokes]
    theta = np.deg2rad(rng.uniform(-cfg.rotate, cfg.rotate))
    shear = rng.uniform(-cfg.slant, cfg.slant)
    m = np.array([[1.0, shear], [0.0, 1.0]]) @ np.array(
        [[np.cos(theta), -np.sin(theta)], [np.sin(theta), np.cos(theta)]])
    allp = np.concatenate(kept)
    height = float(np.ptp(allp[:, 1])) or 1.0
    sd = cfg.jitter * height
    return [s @ m.T + rng.normal(0.0, sd, s.shape) for s in kept]


def place_in_box(strokes: list[np.ndarray], size: float, rng: np.random.Generator,
                 side: int = FRAME) -> list[np.ndarray]:
    """Scale so the digit's larger extent is `size` x side, and put it anywhere in the box
    with a margin of half a brush, as a person draws somewhere on the canvas."""
    allp = np.concatenate(strokes)
    lo, hi = allp.min(axis=0), allp.max(axis=0)
    scale = size * side / max(float((hi - lo).max()), 1e-6)
    extent = (hi - lo) * scale
    margin = side * STROKE_FRACTION
    room = np.maximum(side - 2 * margin - extent, 0.0)
    origin = margin + rng.uniform(0.0, 1.0, 2) * room
    return [(s - lo) * scale + origin for s in strokes]


def render_variant(strokes: Sequence[np.ndarray], rng: np.random.Generator,
                   cfg: RenderConfig) -> np.ndarray | None:
    """One random drawing of a tablet digit, through `to_mnist`; None if nothing is drawn."""
    screen = _warp(tablet_to_screen(strokes), cfg, rng)
    placed = place_in_box(screen, rng.uniform(cfg.size_min, cfg.size_max), rng)
    width = FRAME * STROKE_FRACTION * rng.uniform(cfg.width_min, cfg.width_max)
    return to_mnist(draw_strokes(placed, width))


def render_plain(strokes: Sequence[np.ndarray], size: float = 0.7) -> np.ndarray | None:
    """The digit drawn once as a typical page user would: no jitter, the page's own brush."""
    rng = np.random.default_rng(0)
    placed = place_in_box(tablet_to_screen(strokes), size, rng)
    return to_mnist(draw_strokes(placed, FRAME * STROKE_FRACTION))
