"""The USPS data source: 16x16 scanned digits, given to the model the way the product gets them.

A person who has such a scan gives `digitflow predict` a black-on-white PNG. So each digit is
scaled from 16x16 to `PNG_DIGIT` px (bilinear), pasted in the middle of a `PNG_SIDE` white
canvas as 8-bit grey, and then read back exactly as `shared.preprocess.image_to_array` reads a
grey PNG (255 - grey) and put through `to_mnist`. Skipping the PNG bytes changes nothing: PNG
is lossless, and the polarity check picks the same side for a white border.
"""

from __future__ import annotations

import gzip
from pathlib import Path

import numpy as np
from PIL import Image

from shared.preprocess import to_mnist_batch

TRAIN_FILE = "zip.train.gz"
TEST_FILE = "zip.test.gz"
SIDE = 16
PNG_SIDE = 280
PNG_DIGIT = 200


class UspsError(RuntimeError):
    """The USPS file is missing or malformed; the message says what is wrong."""


def parse_usps(text: str) -> tuple[np.ndarray, np.ndarray]:
    """Parse 'label v1 ... v256' lines (grey -1 background .. 1 ink) to ink-high 0..255."""
    rows = [line.split() for line in text.splitlines() if line.strip()]
    bad = [i for i, r in enumerate(rows) if len(r) != SIDE * SIDE + 1]
    if bad:
        raise UspsError(f"line {bad[0] + 1} has {len(rows[bad[0]])} values, expected 257")
    values = np.asarray(rows, np.float32)
    labels = values[:, 0].astype(np.int64)
    if labels.size and (labels.min() < 0 or labels.max() > 9):
        raise UspsError("a USPS label lies outside 0-9")
    ink = (np.clip(values[:, 1:], -1.0, 1.0) + 1.0) * 127.5
    return ink.reshape(-1, SIDE, SIDE), labels


def load_usps(folder: Path, split: str) -> tuple[np.ndarray, np.ndarray]:
    """Read the 'train' or 'test' file of `folder` as (ink 16x16 float32, labels)."""
    name = {"train": TRAIN_FILE, "test": TEST_FILE}[split]
    path = Path(folder) / name
    if not path.is_file():
        raise UspsError(f"no {name} in {folder}")
    try:
        with gzip.open(path, "rt", encoding="ascii") as fh:
            return parse_usps(fh.read())
    except (OSError, EOFError, UnicodeDecodeError, ValueError) as exc:
        raise UspsError(f"cannot read {path}: {exc}") from None


def as_png_ink(ink16: np.ndarray) -> np.ndarray:
    """One 16x16 digit as the ink that `image_to_array` reads from its 280x280 PNG."""
    grey = Image.fromarray(np.rint(255.0 - ink16).astype(np.uint8), mode="L")
    big = np.asarray(grey.resize((PNG_DIGIT, PNG_DIGIT), Image.Resampling.BILINEAR))
    canvas = np.full((PNG_SIDE, PNG_SIDE), 255, np.uint8)
    top = (PNG_SIDE - PNG_DIGIT) // 2
    canvas[top : top + PNG_DIGIT, top : top + PNG_DIGIT] = big
    return 255.0 - canvas.astype(np.float32)


def prepare_usps(ink16: np.ndarray, labels: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """All digits through the product's PNG path; empty ones are dropped."""
    digits, empty = to_mnist_batch(np.stack([as_png_ink(d) for d in ink16]))
    return digits[~empty], np.asarray(labels, np.int64)[~empty]
