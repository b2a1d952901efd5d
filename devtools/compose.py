"""Whole numbers composed from single digits, for the benchmark and the tests.

Two sources, as issue 12 names them:
- MNIST digits (28x28): each cut to its ink's columns and set side by side with a random gap
  of 0 to `max_gap` pixels, or, for a share of the neighbouring pairs, overlapping by 1 to
  `max_touch` pixels (a touching pair: their ink columns interleave).
- Pen strokes (pendigits): each digit's strokes drawn left to right on one wide canvas by the
  page's own renderer (`trainer.data.strokes`), with gaps measured the same way, scaled from
  the 28x28 scale (a digit is 20 pixels high there) to the drawn height.
Everything is drawn from a seeded generator, so a run can be repeated exactly.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from trainer.data.pairs import ink_columns
from trainer.data.strokes import (
    FRAME,
    STROKE_FRACTION,
    RenderConfig,
    _warp,
    draw_strokes,
    tablet_to_screen,
)

MNIST_DIGIT_HEIGHT = 20.0  # MNIST fits every digit into 20x20: the scale the gaps are given at
PEN_CANVAS = (FRAME, 4 * FRAME)  # rows, columns: the page's number-mode frame (4:1)


@dataclass(frozen=True)
class Spacing:
    """How neighbouring digits sit: gaps in 28x28-scale pixels, and the touching share."""

    max_gap: int = 8
    touch_share: float = 0.1
    max_touch: int = 3

    def draw(self, rng: np.random.Generator, pairs: int) -> np.ndarray:
        """One gap per neighbouring pair: >= 0 a gap, < 0 an overlap (a touching pair)."""
        touching = rng.random(pairs) < self.touch_share
        gaps = rng.integers(0, self.max_gap + 1, pairs).astype(np.float64)
        overlaps = -rng.integers(1, self.max_touch + 1, pairs).astype(np.float64)
        return np.where(touching, overlaps, gaps)


def compose_mnist(digits: Sequence[np.ndarray], gaps: Sequence[float], margin: int = 6
                  ) -> np.ndarray:
    """Set 28x28 digits side by side (each keeps its row placement) with the given gaps;
    overlapping ink takes the brighter value. Returns ink-high float32."""
    return compose_mnist_centres(digits, gaps, margin)[0]


def compose_mnist_centres(digits: Sequence[np.ndarray], gaps: Sequence[float],
                          margin: int = 6) -> tuple[np.ndarray, list[float]]:
    """`compose_mnist`, and the column of each digit's centre (to score a segmentation)."""
    crops = [ink_columns(d) for d in digits]
    starts, x = [], margin
    for i, crop in enumerate(crops):
        starts.append(x)
        x += crop.shape[1] + (int(gaps[i]) if i < len(gaps) else 0)
    width = max(s + c.shape[1] for s, c in zip(starts, crops, strict=True)) + margin
    out = np.zeros((28 + 2 * margin, width), np.float32)
    for s, crop in zip(starts, crops, strict=True):
        view = out[margin : margin + 28, s : s + crop.shape[1]]
        np.maximum(view, crop, out=view)
    return out, [s + c.shape[1] / 2.0 for s, c in zip(starts, crops, strict=True)]


def compose_pen(digits: Sequence[Sequence[np.ndarray]], gaps: Sequence[float],
                rng: np.random.Generator, cfg: RenderConfig | None = None,
                shape: tuple[int, int] = PEN_CANVAS, with_centres: bool = False
                ) -> tuple[np.ndarray, list[tuple[float, float, float, float]]]:
    """Draw tablet digits left to right on a wide canvas as the page would, with gaps at the
    28x28 scale; returns (ink-high float32, each stroke's [x0, x1, y0, y1] as fractions of the
    width and height, brush included, as the page sends them), and `with_centres` each digit's
    centre column."""
    cfg = cfg or RenderConfig(size_min=0.55, size_max=0.8)
    rows, cols = shape
    brush = rows * STROKE_FRACTION * rng.uniform(0.85, 1.15)
    height = rows * rng.uniform(cfg.size_min, cfg.size_max)
    per_px = height / MNIST_DIGIT_HEIGHT  # canvas pixels per 28x28-scale pixel
    placed: list[list[np.ndarray]] = []
    x = 0.0
    for i, strokes in enumerate(digits):
        screen = _warp(tablet_to_screen(list(strokes)), cfg, rng)
        allp = np.concatenate(screen)
        lo, hi = allp.min(axis=0), allp.max(axis=0)
        scale = height * rng.uniform(0.92, 1.08) / max(float(hi[1] - lo[1]), 1e-6)
        top = (rows - height) / 2.0 + rng.normal(0.0, 0.03) * height
        moved = [(s - lo) * scale + np.array([x, top]) for s in screen]
        placed.append(moved)
        ink_width = float(hi[0] - lo[0]) * scale + brush  # centre line plus the brush
        x += ink_width + (gaps[i] * per_px if i < len(gaps) else 0.0)
    total = x - brush  # centre-line extent of the whole number
    fit = min(1.0, (cols - 2 * brush) / max(total, 1e-6))  # shrink a long number to fit
    offset = np.array([(cols - total * fit) / 2.0, rows / 2.0])
    centre = np.array([0.0, rows / 2.0])
    moved = [[(s - centre) * fit + offset for s in digit] for digit in placed]
    strokes = [s for digit in moved for s in digit]
    ink = draw_strokes(strokes, brush * fit, shape=shape)
    centres = [float((min(s[:, 0].min() for s in d) + max(s[:, 0].max() for s in d)) / 2)
               for d in moved]
    half = brush * fit / 2

    def frac(v: float, side: int) -> float:
        return float(np.clip(v / side, 0.0, 1.0))

    spans = [(frac(s[:, 0].min() - half, cols), frac(s[:, 0].max() + half, cols),
              frac(s[:, 1].min() - half, rows), frac(s[:, 1].max() + half, rows))
             for s in strokes]
    if with_centres:
        return ink, spans, centres  # type: ignore[return-value]
    return ink, spans
