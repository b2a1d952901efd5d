"""Touching pairs: two digits squeezed into one crop ("not a digit"), and cut apart again.

Why: a number's reading (`shared.number.choose_reading`) keeps a place whole or cuts it by
how sure the model is of each reading. Two touching digits kept whole were often read, and
surely, as one digit: "61" as 4, "69" as 4, "11" as 8 (issue 12: 18 of the 48 misses of 1,000
MNIST numbers). Taught that such a crop is no digit, the model is unsure of the whole, so the
cut reading wins.

Each pair is two MNIST *train* digits cut to their ink's columns and set side by side with
their columns overlapping by 1 to `MAX_OVERLAP` pixels (and a little vertical offset), then
prepared by the one `to_mnist`, as a merged place is. A pair whose union is hardly wider than
its wider digit (a "1" hidden inside a "0") would read as that digit and is drawn again.

The same pairs, cut apart at a random column of their overlap, give each digit with a sliver
of its neighbour and without the sliver of itself that the cut took: what a right cut of a
touching pair hands the model. They keep their digit's label, so the model reads a cut place
as the digit it is (the other half of issue 12's misses: touching digits cut right, read wrong).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from shared.preprocess import INK_LEVEL, to_mnist
from trainer.data.cache import PIPELINE_FILES, cache_key, cached

SEED = 7101
MAX_OVERLAP = 4  # pixels at the 28x28 scale (the benchmark's touching pairs overlap 1-3)
MAX_SHIFT = 2  # rows one digit may sit above or below the other
MIN_PROTRUDE = 3  # the union is at least this much wider than the wider digit


def ink_columns(img: np.ndarray) -> np.ndarray:
    """The digit cut to the columns that hold ink, as float32 (one column when it has none).
    `devtools.compose` sets a benchmark's digits side by side with it too."""
    img = np.asarray(img, np.float32)
    cols = np.flatnonzero((img > INK_LEVEL).any(axis=0))
    return img[:, cols[0] : cols[-1] + 1] if cols.size else img[:, :1]


def squeeze(left: np.ndarray, right: np.ndarray, overlap: int, shift: int, check: bool = True
            ) -> np.ndarray | None:
    """Two 28-row digits side by side, their ink columns overlapping by `overlap` pixels and
    the right one `shift` rows lower; None (when `check`) if the union is hardly wider than
    the wider digit."""
    a, b = ink_columns(left), ink_columns(right)
    width = max(a.shape[1] + b.shape[1] - overlap, a.shape[1], b.shape[1])
    if check and width < max(a.shape[1], b.shape[1]) + MIN_PROTRUDE:
        return None
    pad = MAX_SHIFT
    out = np.zeros((28 + 2 * pad, width), np.float32)
    out[pad : pad + 28, : a.shape[1]] = a
    view = out[pad + shift : pad + shift + 28, width - b.shape[1] :]
    np.maximum(view, b, out=view)
    return out


def cut_apart(pair: np.ndarray, left_width: int, overlap: int, at: int
              ) -> tuple[np.ndarray, np.ndarray]:
    """A squeezed pair cut straight down at column `at` of the overlap (0..overlap):
    (the left digit's side, the right digit's side)."""
    column = left_width - overlap + at
    return pair[:, :column], pair[:, column:]


def generate(n: int, digits: np.ndarray, seed: int = SEED) -> np.ndarray:
    """`n` touching pairs of random digits, as 28x28 uint8 crops (deterministic)."""
    rng = np.random.default_rng(seed)
    out = np.zeros((n, 28, 28), np.uint8)
    for i in range(n):
        img = None
        while img is None:
            left, right = rng.integers(0, len(digits), 2)
            ink = squeeze(digits[left], digits[right], int(rng.integers(1, MAX_OVERLAP + 1)),
                          int(rng.integers(-MAX_SHIFT, MAX_SHIFT + 1)))
            img = None if ink is None else to_mnist(ink)
        out[i] = img
    return out


def generate_cut(n: int, digits: np.ndarray, labels: np.ndarray, seed: int = SEED + 1
                 ) -> tuple[np.ndarray, np.ndarray]:
    """`n` digits cut out of touching pairs, as 28x28 uint8 crops, and their labels."""
    rng = np.random.default_rng(seed)
    out = np.zeros((n, 28, 28), np.uint8)
    y = np.zeros(n, np.int64)
    i = 0
    while i < n:
        left, right = rng.integers(0, len(digits), 2)
        overlap = int(rng.integers(1, MAX_OVERLAP + 1))
        left_width = ink_columns(digits[left]).shape[1]
        if min(left_width, ink_columns(digits[right]).shape[1]) <= overlap:
            continue  # one digit inside the other: no cut gives either back
        pair = squeeze(digits[left], digits[right], overlap,
                       int(rng.integers(-MAX_SHIFT, MAX_SHIFT + 1)), check=False)
        assert pair is not None
        parts = cut_apart(pair, left_width, overlap, int(rng.integers(0, overlap + 1)))
        for part, label in zip(parts, (labels[left], labels[right]), strict=True):
            img = to_mnist(part)
            if img is not None and i < n:
                out[i], y[i] = img, label
                i += 1
    return out, y


def touching_pairs(n: int, digits: np.ndarray, cache_dir: Path | None) -> np.ndarray:
    """`generate`, cached: this code, the pipeline and the digits' identity make the key."""
    key = cache_key([], [*PIPELINE_FILES, Path(__file__)],
                    f"{n}:{len(digits)}:{int(digits.sum())}")
    return cached(cache_dir, "pairs", key, lambda: {"x": generate(n, digits)})["x"]


def cut_pairs(n: int, digits: np.ndarray, labels: np.ndarray, cache_dir: Path | None
              ) -> tuple[np.ndarray, np.ndarray]:
    """`generate_cut`, cached like `touching_pairs`."""
    key = cache_key([], [*PIPELINE_FILES, Path(__file__)],
                    f"cut:{n}:{len(digits)}:{int(digits.sum())}:{int(labels.sum())}")
    z = cached(cache_dir, "cut-pairs", key,
               lambda: dict(zip(("x", "y"), generate_cut(n, digits, labels), strict=True)))
    return z["x"], z["y"]
