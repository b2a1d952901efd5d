"""The readings of one group of ink that may hold touching digits: where to cut it, and how.

Pure numpy (the grouping itself is `shared.segment`'s). Why it is built this way:
- Touching handwritten digits rarely touch along a vertical line: a 1 leaning into a 4, or a
  9's tail under the 1 before it. Besides straight cuts at the thinnest columns, each start
  column also gets the cheapest top-to-bottom *path* through the group (a "drop-fall" style
  cut: it may step sideways one column per row, and pays for every ink pixel it crosses), so
  the cut goes round the digits and through the ink only where they touch.
- All cuts of a group, ordered left to right, make a lattice: the ink between any two cuts is
  one candidate digit. A reading is a left-to-right walk through it in one, two or (for a
  group wide enough) three parts; its crops are shared between the readings that contain
  them, so the model reads each once. `shared.number.choose_reading` scores the walks.
"""

from __future__ import annotations

import numpy as np

from shared.preprocess import INK_LEVEL

MAYBE_TWO = 0.6  # a group wider than this x the line height may be two touching digits
MAYBE_THREE = 1.1  # ... and wider than this x the line height may be three
MAYBE_FOUR = 1.8  # ... or four
SURELY_TWO = 1.6  # a group wider than this x the line height is never one digit
EDGE = 0.15  # a cut leaves at least this x the line height of ink on each side
CUTS_TRIED = 6  # the thinnest columns tried as cut starts, per group
START_STEP = 0.15  # ... and starts every this x the line height across it
FLAT = 0.5  # a part lower than this x the line height is not a digit on its own
ON_ONE_SIDE = 0.85  # a component with this share of its ink on one side of a cut moves whole
STEP_COST = 0.05  # a path's cost of stepping one column sideways (per row), ink costing 1
DRIFT_COST = 0.02  # ... and of being one column away from its start (per row)
SAME_CUT = 0.02  # two cuts moving less than this share of the group's ink are one cut
MIN_PART = 0.3  # a part lower than this x the line height is no digit (in a lattice walk)
Crop = np.ndarray  # ink-high float32, cut to its ink's bounding box
Reading = tuple[tuple[Crop, ...], float]  # crops left to right, ink the cuts go through / line


def bounding_box(mask: np.ndarray) -> tuple[int, int, int, int] | None:
    """(top, bottom, left, right), ends exclusive, of a mask's pixels; None when empty."""
    rows, cols = np.flatnonzero(mask.any(axis=1)), np.flatnonzero(mask.any(axis=0))
    if rows.size == 0:
        return None
    return int(rows[0]), int(rows[-1]) + 1, int(cols[0]), int(cols[-1]) + 1


def crop(ink: np.ndarray, keep: np.ndarray) -> Crop | None:
    """The ink where `keep`, cut to its bounding box; None when nothing is kept."""
    box = bounding_box(keep)
    if box is None:
        return None
    top, bottom, left, right = box
    return np.where(keep, ink, 0.0)[top:bottom, left:right].astype(np.float32)


def thinnest_columns(profile: np.ndarray, lo: int, hi: int, count: int = CUTS_TRIED
                     ) -> list[int]:
    """Up to `count` columns in [lo, hi) with the least ink, at least 2 columns apart;
    ties go to the column nearest the middle."""
    if hi <= lo:
        return []
    cols = np.arange(lo, hi)
    middle = (lo + hi - 1) / 2.0
    chosen: list[int] = []
    for k in np.lexsort((np.abs(cols - middle), profile[lo:hi])):
        c = int(cols[k])
        if all(abs(c - other) >= 2 for other in chosen):
            chosen.append(c)
            if len(chosen) == count:
                break
    return chosen


def moved_whole(owner: np.ndarray, keep: np.ndarray, left: np.ndarray
                ) -> tuple[np.ndarray, np.ndarray]:
    """`keep` split into (left, right) by the mask `left`; a minor component (under half the
    ink) with most of its ink on one side goes there whole (a 7's bar stays with the 7)."""
    left = keep & left
    right = keep & ~left
    total = float(keep.sum())
    for label in np.unique(owner[keep]):
        part = keep & (owner == label)
        if part.sum() >= total / 2:
            continue
        share = float(left[part].mean())
        if share >= ON_ONE_SIDE:
            left |= part
            right &= ~part
        elif share <= 1.0 - ON_ONE_SIDE:
            right |= part
            left &= ~part
    return left, right


def split_at(owner: np.ndarray, keep: np.ndarray, cut: int) -> tuple[np.ndarray, np.ndarray]:
    """Two masks of `keep`, left and right of column `cut` (see moved_whole)."""
    left = np.zeros_like(keep)
    left[:, :cut] = True
    return moved_whole(owner, keep, left)


def cut_path(cost: np.ndarray, start: int, lo: int, hi: int) -> np.ndarray:
    """The column, per row, of the cheapest top-to-bottom path through `cost` (ink 1, paper
    0) that stays in columns [lo, hi), steps at most one column per row, and pays a little
    for each sideways step and for straying from `start`."""
    cols = np.arange(lo, hi)
    here = cost[:, lo:hi] + DRIFT_COST * np.abs(cols - start)[None, :]
    total = here[0].copy()
    came = np.zeros(here.shape, np.int8)  # -1, 0 or +1: the column the best path came from
    best = np.empty(len(total))
    for r in range(1, len(here)):  # as argmin over (left, straight, right): first wins ties
        best[0] = np.inf
        best[1:] = total[:-1] + STEP_COST
        came[r] = -1
        straight = total < best
        best[straight] = total[straight]
        came[r][straight] = 0
        right = np.full(len(total), np.inf)
        right[:-1] = total[1:] + STEP_COST
        rightwards = right < best
        best[rightwards] = right[rightwards]
        came[r][rightwards] = 1
        total = best + here[r]
    path = np.empty(len(here), np.int64)
    path[-1] = int(total.argmin())
    for r in range(len(here) - 1, 0, -1):
        path[r - 1] = path[r] + came[r, path[r]]
    return path + lo


def left_of(path: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    """The mask of the pixels left of a path (one column per row)."""
    return np.arange(shape[1])[None, :] < path[:, None]


def candidate_cuts(ink: np.ndarray, owner: np.ndarray, keep: np.ndarray, line: float
                   ) -> list[tuple[np.ndarray, float]]:
    """The group's distinct cuts, left to right: (left mask, ink the cut goes through / line).
    Straight cuts at the thinnest columns and at evenly spaced columns (two round digits
    touching side by side are thick where they touch), and a cheapest path from each."""
    box = bounding_box(keep)
    assert box is not None
    top, bottom, left, right = box
    edge = max(2, round(EDGE * line))
    raw = keep.sum(axis=0).astype(np.float64)
    profile = np.convolve(raw, np.ones(3) / 3, "same")
    starts = thinnest_columns(profile, left + edge, right - edge)
    spaced = np.arange(left + edge, right - edge, max(2.0, START_STEP * line))
    starts += [int(c) for c in spaced if all(abs(c - other) >= 2 for other in starts)]
    strong = (keep & (ink > INK_LEVEL)).astype(np.float64)
    found: list[tuple[np.ndarray, float]] = []
    for start in starts:
        path = np.full(ink.shape[0], start)
        band = cut_path(strong[top:bottom], start, left + edge, right - edge + 1)
        bent = path.copy()
        bent[top:bottom] = band
        bent[:top], bent[bottom:] = band[0], band[-1]
        for p in (path, bent):
            lmask, rmask = moved_whole(owner, keep, left_of(p, keep.shape))
            if not lmask.any() or not rmask.any():
                continue
            through = float(strong[np.arange(len(p)), np.clip(p, 0, keep.shape[1] - 1)].sum())
            found.append((lmask, through / line))
    total = float(keep.sum())
    found.sort(key=lambda c: int(c[0].sum()))
    distinct: list[tuple[np.ndarray, float]] = []
    for lmask, through in found:
        if any((lmask ^ other).sum() < SAME_CUT * total for other, _ in distinct):
            continue
        distinct.append((lmask, through))
    return distinct


def tall_parts(owner: np.ndarray, keep: np.ndarray, line: float) -> list[np.ndarray]:
    """The group's components at least FLAT x the line high, left to right, each with the
    low components whose centre is nearest (a digit split into two tall strokes, or two
    neighbours leaning into each other: reading them apart is one more candidate)."""
    labels = [int(v) for v in np.unique(owner[keep]) if v]
    boxes = {v: bounding_box(keep & (owner == v)) for v in labels}
    tall = [v for v in labels if boxes[v][1] - boxes[v][0] >= FLAT * line]  # type: ignore[index]
    if len(tall) < 2:
        return []

    def centre(v: int) -> float:
        b = boxes[v]
        assert b is not None
        return (b[2] + b[3]) / 2.0

    tall.sort(key=centre)
    parts = [keep & (owner == v) for v in tall]
    for v in labels:
        if v not in tall:
            nearest = min(range(len(tall)), key=lambda k: abs(centre(tall[k]) - centre(v)))
            parts[nearest] |= keep & (owner == v)
    return parts


def lattice_walks(count: int, most: int) -> list[tuple[int, ...]]:
    """Every walk 0 -> count + 1 through increasing cut indices (0: the left end, count + 1:
    the right end) in at most `most` steps."""
    walks: list[tuple[int, ...]] = []

    def extend(walk: tuple[int, ...]) -> None:
        if walk[-1] == count + 1:
            walks.append(walk)
            return
        if len(walk) > most:
            return
        for nxt in range(walk[-1] + 1, count + 2):
            if nxt == count + 1 or len(walk) < most:
                extend((*walk, nxt))

    extend((0,))
    return walks


def readings(ink: np.ndarray, owner: np.ndarray, keep: np.ndarray, line: float,
             may_split: bool) -> list[Reading]:
    """The readings of one group, whole first (unless too wide for one digit): apart along
    component borders, and every walk of two to four parts (as many as the group is wide
    for) through its cut lattice. Each comes with the ink its cuts go through (over the line
    height); parts lower than MIN_PART x the line are no digit: walks through them are out."""
    box = bounding_box(keep)
    if box is None:
        return []
    width = box[3] - box[2]
    whole = crop(ink, keep)
    assert whole is not None
    if not may_split or width <= MAYBE_TWO * line:
        return [((whole,), 0.0)]
    forced = width > SURELY_TWO * line
    most = 2 + (width > MAYBE_THREE * line) + (width > MAYBE_FOUR * line)
    options: list[Reading] = [] if forced else [((whole,), 0.0)]
    parts = tall_parts(owner, keep, line)
    for k in range(1, len(parts)):  # apart along component borders
        lo = crop(ink, np.logical_or.reduce(parts[:k]))
        ro = crop(ink, np.logical_or.reduce(parts[k:]))
        assert lo is not None and ro is not None
        options.append(((lo, ro), 0.0))
    cuts = candidate_cuts(ink, owner, keep, line)
    lefts = [np.zeros_like(keep), *(m for m, _ in cuts), keep]
    through = [0.0, *(t for _, t in cuts), 0.0]
    pieces: dict[tuple[int, int], Crop | None] = {}

    def piece(i: int, j: int) -> Crop | None:
        if (i, j) not in pieces:
            c = crop(ink, keep & lefts[j] & ~lefts[i])
            pieces[(i, j)] = c if c is not None and c.shape[0] >= MIN_PART * line else None
        return pieces[(i, j)]

    for walk in lattice_walks(len(cuts), most):
        if len(walk) == 2:
            continue  # the whole, above
        crops = [piece(i, j) for i, j in zip(walk, walk[1:], strict=False)]
        if all(c is not None for c in crops):
            options.append((tuple(crops), sum(through[i] for i in walk)))  # type: ignore[arg-type]
    if not options:  # too wide for one digit, yet no cut leaves two digit-high parts
        options = [((whole,), 0.0)]
    return options
