"""shared.segment: cutting a wide drawing into digit places, on strokes drawn as the page
draws them (trainer.data.strokes, the page's brush) and on MNIST digits set side by side."""

from __future__ import annotations

import numpy as np
import pytest

from devtools.compose import compose_mnist
from shared.cuts import cut_path, lattice_walks, left_of, split_at, thinnest_columns
from shared.mnist import load_mnist
from shared.preprocess import InvalidInput
from shared.segment import (
    MAX_COMPONENTS,
    Slot,
    group_boxes,
    label_ink,
    merge_spans,
    overlap_fraction,
    segment_number,
)
from trainer.data.strokes import STROKE_FRACTION, draw_strokes

ROWS, COLS = 112, 448  # the page's number-mode frame
BRUSH = ROWS * STROKE_FRACTION


def pts(*xy: float) -> np.ndarray:
    return np.array(xy, np.float64).reshape(-1, 2)


def ellipse(cx: float, cy: float, rx: float, ry: float, n: int = 40) -> np.ndarray:
    t = np.linspace(0, 2 * np.pi, n)
    return np.column_stack([cx + rx * np.sin(t), cy - ry * np.cos(t)])


def one(x: float) -> list[np.ndarray]:
    return [pts(x, 25, x, 90)]


def four(x: float) -> list[np.ndarray]:
    """A 4 in two strokes: the open L with its bar, then the down stroke crossing the bar."""
    return [pts(x + 10, 25, x, 68, x + 40, 68), pts(x + 30, 30, x + 30, 92)]


def five(x: float) -> list[np.ndarray]:
    """A 5 whose top bar, drawn last, does not touch the body (two components)."""
    body = np.vstack([pts(x + 4, 28, x + 2, 55), ellipse(x + 18, 72, 16, 18)[10:35]])
    return [body, pts(x + 10, 12, x + 36, 12)]


def render(strokes: list[np.ndarray]) -> np.ndarray:
    return draw_strokes(strokes, BRUSH, shape=(ROWS, COLS))


def spans(strokes: list[np.ndarray]) -> list[tuple[float, float, float, float]]:
    """Each stroke's box with the brush, as fractions of the width and height (as the page
    sends them)."""
    def frac(v: float, side: int) -> float:
        return float(np.clip(v / side, 0.0, 1.0))

    return [(frac(s[:, 0].min() - BRUSH / 2, COLS), frac(s[:, 0].max() + BRUSH / 2, COLS),
             frac(s[:, 1].min() - BRUSH / 2, ROWS), frac(s[:, 1].max() + BRUSH / 2, ROWS))
            for s in strokes]


def digit_counts(slots: list[Slot]) -> set[int]:
    """Every digit count the slots' readings can make."""
    counts = {0}
    for slot in slots:
        counts = {c + len(r) for c in counts for r in slot.readings}
    return counts


def whole_first(slots: list[Slot]) -> bool:
    """Each place's first reading is the place whole (cuts, if any, come after)."""
    return all(len(s.readings[0]) == 1 for s in slots)


def single_readings(slots: list[Slot]) -> bool:
    return all(len(s.readings) == 1 and len(s.readings[0]) == 1 for s in slots)


# ---------------------------------------------------------------- spans
def test_overlap_fraction_is_of_the_narrower_span() -> None:
    assert overlap_fraction(0, 10, 8, 12) == pytest.approx(0.5)
    assert overlap_fraction(0, 10, 10, 20) == 0.0
    assert overlap_fraction(0, 10, 3, 3) == 1.0  # a point inside a span


def test_a_flat_part_joins_the_digit_it_overlaps_most() -> None:
    # a 5's body, its bar reaching out to the right (overlapping the body by 40%), a 1 beyond
    boxes = [(0.0, 10.0, 5.0, 30.0), (4.0, 14.0, 0.0, 3.0), (16.0, 18.0, 0.0, 30.0)]
    assert group_boxes(boxes) == [[0, 1], [2]]
    assert group_boxes(boxes[1:2]) == [[0]]  # alone, a flat mark is still a place


def test_merge_spans_groups_overlapping_spans_transitively_left_to_right() -> None:
    assert merge_spans([(50, 60), (0, 10), (8, 12), (55, 70), (30, 40)]) == [
        [1, 2], [4], [0, 3]]
    assert merge_spans([(0, 10), (9, 20)]) == [[0], [1]]  # a 1-px lean is two digits


def test_thinnest_columns_keep_apart_and_prefer_the_middle() -> None:
    profile = np.array([0, 5, 1, 1, 1, 5, 0], np.float64)
    assert thinnest_columns(profile, 1, 6, count=2) == [3, 1]


# ---------------------------------------------------------------- whole drawings
def test_empty_drawing_has_no_places() -> None:
    assert segment_number(np.zeros((ROWS, COLS), np.float32)) == []
    assert segment_number(np.full((ROWS, COLS), 20.0, np.float32)) == []  # haze is not ink


def test_single_digit_is_one_place_read_whole_first() -> None:
    slots = segment_number(render([*one(200)]))
    assert single_readings(slots) and len(slots) == 1
    slots = segment_number(render([ellipse(200, 56, 22, 33)]))  # wide: cuts are offered too
    assert whole_first(slots) and len(slots) == 1


def test_separate_digits_come_left_to_right() -> None:
    strokes = [*one(300), ellipse(100, 56, 22, 33), *one(200)]
    slots = segment_number(render(strokes))
    assert whole_first(slots) and len(slots) == 3
    widths = [s.readings[0][0].shape[1] for s in slots]
    assert widths[0] > 2 * widths[1]  # the 0 first, then the two 1s


@pytest.mark.parametrize("with_strokes", [False, True])
def test_a_four_in_two_strokes_is_one_digit(with_strokes: bool) -> None:
    strokes = [*one(60), *four(150), *one(260)]
    slots = segment_number(render(strokes), spans(strokes) if with_strokes else None)
    assert len(slots) == 3 and whole_first(slots)


@pytest.mark.parametrize("with_strokes", [False, True])
def test_a_five_whose_bar_does_not_touch_is_one_digit(with_strokes: bool) -> None:
    strokes = five(150)
    ink = render(strokes)
    assert label_ink(ink)[1] == 2  # really two components
    slots = segment_number(ink, spans(strokes) if with_strokes else None)
    assert len(slots) == 1 and whole_first(slots)
    assert slots[0].readings[0][0].shape[0] > 70  # bar and body together


def test_noise_dots_are_dropped() -> None:
    ink = render([ellipse(200, 56, 22, 33)])
    rng = np.random.default_rng(0)
    for y, x in zip(rng.integers(5, ROWS - 5, 12), rng.integers(5, COLS - 5, 12), strict=True):
        ink[y : y + 2, x : x + 2] = 255.0
    slots = segment_number(ink)
    assert len(slots) == 1 and slots[0].readings[0][0].shape[0] >= 60


def test_touching_pair_offers_a_cut_at_the_touching_point() -> None:
    # two 0s whose ink just touches: one component, which only a cut can read as two digits
    ink = render([ellipse(180, 56, 20, 33), ellipse(180 + 40 + BRUSH - 2, 56, 20, 33)])
    assert label_ink(ink)[1] == 1
    slots = segment_number(ink)
    assert len(slots) == 1 and digit_counts(slots) >= {1, 2}
    # one cut is at the touching point: two halves each about one 0 wide (40 px + the brush)
    halves = [r for r in slots[0].readings if len(r) == 2
              and all(35 <= c.shape[1] <= 60 for c in r)]
    assert halves, [[c.shape for c in r] for r in slots[0].readings]


def test_touching_digits_from_separate_strokes_are_cut_between_the_strokes() -> None:
    strokes = [ellipse(180, 56, 20, 33), ellipse(222, 56, 20, 33)]
    slots = segment_number(render(strokes), spans(strokes))
    assert single_readings(slots) and len(slots) == 2


def test_far_too_wide_a_group_is_never_read_as_one_digit() -> None:
    chain = [ellipse(100 + 40 * k, 56, 20, 33) for k in range(4)]  # four touching 0s
    slots = segment_number(render(chain))
    assert len(slots) == 1
    assert all(len(r) >= 2 for r in slots[0].readings)


def test_split_moves_a_minor_component_whole() -> None:
    owner = np.zeros((10, 20), np.int32)
    owner[:, 2:12] = 1  # the big part
    owner[0, 6:14] = 2  # a small bar straddling the cut, 7 of its 8 pixels left of it
    keep = owner > 0
    left, right = split_at(owner, keep, 13)
    assert left[0, 6:14].all() and not right[0].any()
    assert right[:, 13:].sum() == 0 and left[:, 2:12].all()


def test_a_bent_cut_goes_round_slanted_digits() -> None:
    # two parallel slanted strokes, 6 columns apart: every vertical line crosses ink, the
    # cheapest path slants between them and crosses none
    cost = np.zeros((20, 30))
    for r in range(20):
        cost[r, 4 + r // 2] = cost[r, 10 + r // 2] = 1.0
    assert all(cost[:, c].any() for c in range(10, 14))
    path = cut_path(cost, 12, 2, 28)
    assert cost[np.arange(20), path].sum() == 0
    assert np.all(np.abs(np.diff(path)) <= 1)  # one column per row at most
    left = left_of(path, cost.shape)
    assert left[cost > 0].sum() == 20  # exactly the first stroke is left of the path


def test_lattice_walks_are_every_left_to_right_split_up_to_the_most_parts() -> None:
    assert lattice_walks(2, 2) == [(0, 1, 3), (0, 2, 3), (0, 3)]
    assert (0, 1, 2, 3) in lattice_walks(2, 3) and len(lattice_walks(2, 3)) == 4
    assert max(len(w) - 1 for w in lattice_walks(5, 4)) == 4


def test_too_many_marks_is_refused() -> None:
    ink = np.zeros((64, 1024), np.float32)
    ink[::4, ::4] = 255.0  # a grid of separate dots
    assert (ink > 0).sum() > MAX_COMPONENTS
    with pytest.raises(InvalidInput, match="too many separate marks"):
        segment_number(ink)


# ---------------------------------------------------------------- MNIST digits side by side
@pytest.fixture(scope="module")
def mnist_test(mnist_dir):  # type: ignore[no-untyped-def]
    return load_mnist("test", mnist_dir)


@pytest.mark.parametrize("gap", [0, 3, 8])
def test_mnist_digits_with_gaps_offer_their_count(mnist_test, gap: int) -> None:  # type: ignore[no-untyped-def]
    found = 0
    for k in range(40):
        idx = np.arange(4 * k, 4 * k + 4)
        slots = segment_number(compose_mnist(mnist_test.images[idx], [gap] * 3))
        found += 4 in digit_counts(slots)
    assert found >= 39, f"{found}/40 numbers can be read with 4 digits at gap {gap}"
