"""Whole numbers: one wide ink-high drawing -> the places of its digits, left to right.

Pure numpy and scipy (no TensorFlow), so the web, the worker, the CLI and the benchmark all
cut a number the same way; every crop then goes through the one `to_mnist`.

How, and why:
1. Ink is labelled in connected components on a *strong* mask (half the peak ink), so the
   faint anti-aliased halos of two close digits do not join them; every fainter ink pixel then
   goes to its nearest strong component (so crops keep their soft edges, as `to_mnist`
   expects).
2. Components that overlap horizontally by at least half the narrower one's width are one
   digit: a 4 or a 5 drawn in two strokes, a 7's bar, a broken stroke. A smaller overlap is two
   neighbours that lean into each other. Live, the page sends each stroke's horizontal extent
   and the same rule groups the strokes, so digits drawn with separate strokes are cut apart
   even where their ink touches.
3. Specks much smaller than the digits are dropped (noise, a stray tap).
4. A group wide for its line (touching digits, or one wide digit) becomes a `Slot` with several
   readings: whole, or cut in two, three or four parts by straight and bent cuts
   (`shared.cuts`). Pixels cannot tell a wide 0 from a touching "10", the model can:
   `choose_reading` (in `shared.number`) scores the readings, all of them going through one
   forward pass.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy import ndimage

from shared.cuts import (
    FLAT,
    ON_ONE_SIDE,
    Crop,
    bounding_box,
    readings,
    tall_parts,
    thinnest_columns,
)
from shared.preprocess import INK_LEVEL, InvalidInput

STRONG_FRACTION = 0.5  # of the peak ink: the core of a stroke, without its anti-aliased halo
MERGE_OVERLAP = 0.5  # horizontal overlap (of the narrower width) that makes two parts one digit
SPECK_FRACTION = 0.2  # a group at most this x the line height on both sides is a speck
STROKES_SURELY_TWO = 2.5  # a group of strokes wider than this x the line is cut (wide 0s: 2.5)
FRAGMENT = 0.2  # a place with less ink than this x the median place's is a broken-off piece
NEAR = 0.25  # ... when it is this close (x the line height) to another place
MAX_COMPONENTS = 512  # more separate marks than this is not a number


@dataclass(frozen=True)
class Slot:
    """One place in the number: its readings, each a left-to-right tuple of crops (one
    reading of one crop when the place is surely one digit), and how wide the place is for
    its line (its width over the median place's height: one digit is rarely above 1)."""

    readings: tuple[tuple[Crop, ...], ...]
    width_ratio: float = 0.0
    columns: tuple[int, int] = (0, 0)  # where the place is in the drawing: [first, last + 1)
    tall_parts: int = 1  # separate components at least FLAT x the line high
    cut_ink: tuple[float, ...] = ()  # per reading: ink its cuts go through, / line height
    line: float = 0.0  # the line height, in pixels (the median place's)


def overlap_fraction(a0: float, a1: float, b0: float, b1: float) -> float:
    """How much two spans [a0, a1) and [b0, b1) overlap, as a fraction of the narrower."""
    inter = min(a1, b1) - max(a0, b0)
    narrow = min(a1 - a0, b1 - b0)
    if narrow <= 0:  # a zero-width span: inside the other or not
        return 1.0 if inter >= 0 else 0.0
    return max(inter, 0.0) / narrow


def merge_spans(spans: Sequence[tuple[float, float]], min_overlap: float = MERGE_OVERLAP
                ) -> list[list[int]]:
    """Indices of spans grouped (transitively) when they overlap by `min_overlap` of the
    narrower one; groups come left to right."""
    groups = [(a, b, [i]) for i, (a, b) in enumerate(spans)]
    merged = True
    while merged:
        merged = False
        groups.sort(key=lambda g: (g[0], g[1]))
        for i in range(len(groups) - 1):
            a = groups[i]
            for j in range(i + 1, len(groups)):
                b = groups[j]
                if b[0] >= a[1]:
                    break  # sorted by start: no later group can overlap a
                if overlap_fraction(a[0], a[1], b[0], b[1]) >= min_overlap:
                    groups[i] = (min(a[0], b[0]), max(a[1], b[1]), a[2] + b[2])
                    del groups[j]
                    merged = True
                    break
            if merged:
                break
    return [sorted(g[2]) for g in groups]


def label_ink(ink: np.ndarray) -> tuple[np.ndarray, int]:
    """(owner, n): each ink pixel labelled 1..n by its strong component (0: background)."""
    peak = float(ink.max()) if ink.size else 0.0
    if peak <= INK_LEVEL:
        return np.zeros(ink.shape, np.int32), 0
    strong = ink >= max(INK_LEVEL, STRONG_FRACTION * peak)
    labels, n = ndimage.label(strong, structure=np.ones((3, 3), bool))
    if n > MAX_COMPONENTS:
        raise InvalidInput(f"too many separate marks ({n}) to read as a number")
    weak = ink > INK_LEVEL
    # every faint pixel belongs to its nearest strong pixel's component
    _, (iy, ix) = ndimage.distance_transform_edt(labels == 0, return_indices=True)
    owner = np.where(weak, labels[iy, ix], 0).astype(np.int32)
    return owner, int(n)


Box = tuple[float, float, float, float]  # x0, x1, y0, y1 of a component or a stroke


def group_boxes(boxes: Sequence[Box]) -> list[list[int]]:
    """Indices of boxes that make one digit, left to right: boxes overlapping horizontally by
    half the narrower are one digit (merge_spans), and a flat group (a 5's bar, a 7's cross
    stroke: lower than FLAT x the tallest) joins the group it overlaps most, if any."""
    groups = merge_spans([(b[0], b[1]) for b in boxes])
    spans = [(min(boxes[i][0] for i in g), max(boxes[i][1] for i in g),
              min(boxes[i][2] for i in g), max(boxes[i][3] for i in g)) for g in groups]
    line = max((sp[3] - sp[2] for sp in spans), default=0.0)
    flat = [sp[3] - sp[2] < FLAT * line for sp in spans]
    for i, sp in enumerate(spans):
        if not flat[i]:
            continue
        overlaps = [(min(sp[1], other[1]) - max(sp[0], other[0]), j)
                    for j, other in enumerate(spans) if not flat[j]]
        most, best = max(overlaps, default=(0.0, -1))
        if most > 0:
            groups[best] = sorted(groups[best] + groups[i])
            groups[i] = []
    return [g for g in groups if g]


def _component_groups(owner: np.ndarray, n: int) -> list[np.ndarray]:
    """Masks of the components grouped into digits (group_boxes), left to right."""
    slices = ndimage.find_objects(owner, max_label=n)
    present = [i for i, s in enumerate(slices) if s is not None]
    boxes = [(float(slices[i][1].start), float(slices[i][1].stop),
              float(slices[i][0].start), float(slices[i][0].stop)) for i in present]
    return [np.isin(owner, [present[k] + 1 for k in members])
            for members in group_boxes(boxes)]


def _stroke_groups(owner: np.ndarray, strokes: Sequence[Box]) -> list[np.ndarray]:
    """A mask per group of strokes (group_boxes), cut between groups at the thinnest column
    (where their ink touches, or in the gap between them); a component with most of its ink
    on one side of a cut goes there whole (a 7's bar reaching over the 1 before it)."""
    width = owner.shape[1]
    digit_spans = [(min(strokes[i][0] for i in g) * width, max(strokes[i][1] for i in g) * width)
                   for g in group_boxes(strokes)]
    digit_spans.sort()
    ink = owner > 0
    profile = ink.sum(axis=0).astype(np.float64)
    cuts = [0]
    for (_, a1), (b0, _) in zip(digit_spans, digit_spans[1:], strict=False):
        lo, hi = sorted((int(np.floor(b0)), int(np.ceil(a1))))
        lo, hi = max(lo, cuts[-1] + 1), min(max(hi, lo + 1), width)
        best = thinnest_columns(profile, lo, hi, count=1)
        if best:
            cuts.append(best[0])
    cuts.append(width)
    out = []
    for c0, c1 in zip(cuts, cuts[1:], strict=False):
        mask = np.zeros_like(ink)
        mask[:, c0:c1] = ink[:, c0:c1]
        out.append(mask)
    if len(out) > 1:
        for label in np.unique(owner[ink]):
            part = owner == label
            shares = [float(m[part].mean()) for m in out]
            best = int(np.argmax(shares))
            if ON_ONE_SIDE <= shares[best] < 1.0:
                for k, m in enumerate(out):
                    out[k] = (m | part) if k == best else (m & ~part)
    return out


def _height(mask: np.ndarray) -> int:
    box = bounding_box(mask)
    return 0 if box is None else box[1] - box[0]


def _not_specks(groups: list[np.ndarray]) -> list[np.ndarray]:
    """Drop groups tiny on both sides next to the tallest one (noise, a stray tap)."""
    boxes = [bounding_box(m) for m in groups]
    line = max((b[1] - b[0] for b in boxes if b), default=0)
    return [g for g, b in zip(groups, boxes, strict=True)
            if b and max(b[1] - b[0], b[3] - b[2]) > SPECK_FRACTION * line]


def _fragments_joined(groups: list[np.ndarray]) -> list[np.ndarray]:
    """A place with little ink (under FRAGMENT x the median place's), or a flat one (a 5's bar
    drawn off to its right), close to a neighbour (within NEAR x the line height) is a
    broken-off piece of it, not a digit: join them."""
    if len(groups) < 3:
        return groups
    inks = [int(m.sum()) for m in groups]
    boxes = [bounding_box(m) for m in groups]
    typical = float(np.median(inks))
    line = float(np.median([b[1] - b[0] for b in boxes if b]))
    out = list(groups)
    for i in sorted(range(len(groups)), key=lambda k: inks[k]):
        box = boxes[i]
        if box is None or (inks[i] >= FRAGMENT * typical and box[1] - box[0] >= FLAT * line):
            continue
        gaps = [(max(boxes[j][2] - boxes[i][3], boxes[i][2] - boxes[j][3]), j)  # type: ignore[index]
                for j in range(len(groups)) if j != i and out[j] is not None
                and boxes[j] is not None]
        gap, j = min(gaps, default=(np.inf, -1))
        if gap <= NEAR * line:
            out[j] = out[j] | out[i]
            out[i] = None  # type: ignore[call-overload]
    return [m for m in out if m is not None]


def segment_number(ink: np.ndarray, strokes: Sequence[Box] | None = None) -> list[Slot]:
    """The digit places of an ink-high drawing, left to right ([] when blank).

    `strokes` (live drawings): each stroke's (x0, x1, y0, y1) as fractions of the width and
    height; the strokes then decide the places, which are cut only if far too wide.
    """
    ink = np.asarray(ink, np.float32)
    owner, n = label_ink(ink)
    if n == 0:
        return []
    if strokes:
        masks = _stroke_groups(owner, strokes)
    else:
        masks = _component_groups(owner, n)
    masks = _not_specks([m for m in masks if m.any()])
    if not strokes:
        masks = _fragments_joined(masks)
    # the line height: the median place's (a touching pair drawn at two heights is taller)
    line = float(np.median([_height(m) for m in masks])) if masks else 0.0
    slots = []
    for mask in masks:
        box = bounding_box(mask)
        assert box is not None
        width = box[3] - box[2]
        # strokes already cut touching digits apart: a stroke group is cut only if it must be
        may_split = not strokes or width > STROKES_SURELY_TWO * line
        options = readings(ink, owner, mask, line, may_split)
        slots.append(Slot(tuple(r for r, _ in options), width / max(line, 1.0),
                          (box[2], box[3]), max(1, len(tall_parts(owner, mask, line))),
                          tuple(c for _, c in options), line))
    return slots
