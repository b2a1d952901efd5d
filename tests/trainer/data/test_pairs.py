"""trainer.data.pairs: touching pairs squeezed into one crop and cut apart, deterministic."""

from __future__ import annotations

import numpy as np

from trainer.data import pairs
from trainer.data.mix import TrainingData, with_pairs
from trainer.data.negatives import NOT_A_DIGIT
from trainer.data.sets import LabelledSet


def bars(n: int = 20, width: int = 6) -> np.ndarray:
    """Stand-in digits: a solid bar `width` columns wide, at varying places."""
    x = np.zeros((n, 28, 28), np.uint8)
    for i in range(n):
        left = 4 + i % 10
        x[i, 4:24, left : left + width] = 255
    return x


def test_the_columns_overlap_by_exactly_the_asked_pixels() -> None:
    a, b = bars()[0], bars()[3]
    out = pairs.squeeze(a, b, overlap=2, shift=0)
    assert out is not None
    assert out.shape[1] == 6 + 6 - 2  # each bar's 6 ink columns, 2 of them shared
    assert out.shape[0] == 28 + 2 * pairs.MAX_SHIFT


def test_the_right_digit_sits_lower_by_the_shift() -> None:
    a, b = bars()[0], bars()[0]
    out = pairs.squeeze(a, b, overlap=1, shift=2)
    assert out is not None
    rows_left = np.flatnonzero(out[:, 0] > 0)
    rows_right = np.flatnonzero(out[:, -1] > 0)
    assert rows_right[0] - rows_left[0] == 2


def test_a_pair_no_wider_than_its_wider_digit_is_refused() -> None:
    narrow = bars(width=3)[0]
    wide = bars(width=10)[0]
    assert pairs.squeeze(wide, narrow, overlap=3, shift=0) is None  # the 3 hides in the 10
    assert pairs.squeeze(wide, narrow, overlap=0, shift=0) is not None


def test_generate_is_deterministic_and_prepared_like_a_digit() -> None:
    x = bars()
    a = pairs.generate(30, x, seed=1)
    assert a.shape == (30, 28, 28) and a.dtype == np.uint8
    assert np.array_equal(a, pairs.generate(30, x, seed=1))
    assert not np.array_equal(a, pairs.generate(30, x, seed=2))
    # to_mnist fits the 20-row bars (22 rows when shifted) to 20 rows: two 6-column bars
    # overlapping by 1 to MAX_OVERLAP columns stay about that wide
    least = int((12 - pairs.MAX_OVERLAP) * 20 / (20 + pairs.MAX_SHIFT))
    cols = [np.flatnonzero(img.max(axis=0) > 0) for img in a]
    assert all(least <= c[-1] - c[0] + 1 <= 11 for c in cols)


def test_a_cut_gives_each_side_of_the_overlap() -> None:
    a, b = bars()[0], bars()[5]
    pair = pairs.squeeze(a, b, overlap=2, shift=0)
    assert pair is not None
    left, right = pairs.cut_apart(pair, left_width=6, overlap=2, at=1)
    assert left.shape[1] == 6 - 2 + 1 and right.shape[1] == 10 - left.shape[1]
    assert np.array_equal(np.concatenate([left, right], axis=1), pair)


def test_cut_digits_keep_their_own_labels() -> None:
    # two stand-in digits told apart by width: 0 a bar 3 columns wide, 1 a block of 12
    x = np.zeros((2, 28, 28), np.uint8)
    x[0, 4:24, 10:13] = 255
    x[1, 4:24, 8:20] = 255
    labels = np.array([0, 1])
    out, y = pairs.generate_cut(60, x, labels, seed=3)
    assert out.shape == (60, 28, 28) and set(y) == {0, 1}
    assert np.array_equal(out, pairs.generate_cut(60, x, labels, seed=3)[0])
    widths = np.array([np.ptp(np.flatnonzero(img.max(axis=0) > 0)) + 1 for img in out])
    # a cut keeps at least one column of the bar and at most 2 of its neighbour's (the
    # overlap is under the bar's width); the block keeps at least 8 of its 12
    assert widths[y == 0].max() <= 5 and widths[y == 1].min() >= 7


def test_each_epoch_adds_a_new_slice_as_not_a_digit_and_the_cut_digits() -> None:
    pool = np.arange(6, dtype=np.uint8)[:, None, None] * np.ones((1, 28, 28), np.uint8)
    cut = LabelledSet("cut pairs", pool + 100, np.array([0, 1, 2, 3, 4, 5]))
    data = TrainingData([], None, pairs=pool, cut_pairs=cut)
    x, y = np.zeros((2, 28, 28), np.uint8), np.array([3, 4])
    x0, y0 = with_pairs(x, y, data, 0, 3)
    x1, y1 = with_pairs(x, y, data, 1, 3)
    assert list(y0) == [3, 4] + [NOT_A_DIGIT] * 3 + [0, 1, 2]
    assert [int(i[0, 0]) for i in x0[2:]] == [0, 1, 2, 100, 101, 102]
    assert [int(i[0, 0]) for i in x1[2:]] == [3, 4, 5, 103, 104, 105]
    assert list(y1[5:]) == [3, 4, 5]
    assert with_pairs(x, y, TrainingData([], None), 0, 3)[0] is x  # no pool: unchanged
