"""The pendigits data source: real pen trajectories (UNIPEN text) by 30 writers.

Each digit is kept as its strokes, not as pixels, so `trainer.data.strokes` can draw it the
way the page draws a canvas stroke, with a different width, speed and jitter each time.
"""

from __future__ import annotations

import gzip
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np

FILE = "pendigits-orig.tra.gz"
_SEGMENT = re.compile(r'^\.SEGMENT DIGIT\s+\S+\s+\?\s+"(\d)"')
_COMMENT = re.compile(r"^\.COMMENT\s+(\d+)\s+(\d+)")


class PendigitsError(RuntimeError):
    """The pendigits file is missing or malformed; the message says what is wrong."""


@dataclass(frozen=True)
class PenDigit:
    """One digit: its strokes as (n, 2) float arrays of (x, y) in tablet units, y up."""

    label: int
    writer: int
    strokes: tuple[np.ndarray, ...]


def parse_unipen(text: str) -> list[PenDigit]:
    """Parse UNIPEN text into digits; points outside a PEN_DOWN/PEN_UP pair are ignored."""
    digits: list[PenDigit] = []
    label = writer = -1
    strokes: list[np.ndarray] = []
    points: list[tuple[float, float]] | None = None

    def flush() -> None:
        if label >= 0 and strokes:
            digits.append(PenDigit(label, writer, tuple(strokes)))

    for line in text.splitlines():
        if m := _SEGMENT.match(line):
            flush()
            label, writer, strokes = int(m.group(1)), -1, []
        elif m := _COMMENT.match(line):
            writer = int(m.group(2))
        elif line.startswith(".PEN_DOWN"):
            points = []
        elif line.startswith(".PEN_UP"):
            if points:
                strokes.append(np.asarray(points, np.float32))
            points = None
        elif points is not None and line.strip():
            x, y = line.split()[:2]
            points.append((float(x), float(y)))
    flush()
    return digits


def load_pendigits(folder: Path) -> list[PenDigit]:
    """Read `FILE` from `folder`."""
    path = Path(folder) / FILE
    if not path.is_file():
        raise PendigitsError(f"no {FILE} in {folder}")
    try:
        with gzip.open(path, "rt", encoding="ascii") as fh:
            digits = parse_unipen(fh.read())
    except (OSError, EOFError, UnicodeDecodeError, ValueError) as exc:
        raise PendigitsError(f"cannot read {path}: {exc}") from None
    if not digits:
        raise PendigitsError(f"{path} holds no digits")
    return digits


def writer_folds(writers: np.ndarray, k: int) -> list[np.ndarray]:
    """Split the sorted distinct writers into k folds of consecutive writers (5 of 6 for 30)."""
    distinct = np.unique(writers)
    return [fold for fold in np.array_split(distinct, k)]
