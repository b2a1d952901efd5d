"""trainer.data.negatives: deterministic, separate generators of drawings that are no digit."""

from __future__ import annotations

import numpy as np
import pytest

from trainer.data import negatives as neg
from trainer.data.mix import TrainingData, with_negatives


def digits() -> tuple[np.ndarray, np.ndarray]:
    """Ten stand-in 'digits' per class (random ink in a box), enough for the cut-offs."""
    rng = np.random.default_rng(0)
    x = np.zeros((100, 28, 28), np.uint8)
    x[:, 4:24, 8:20] = rng.integers(0, 256, (100, 20, 12))
    return x, np.arange(100) % 10


def test_each_generator_is_deterministic_and_the_two_differ() -> None:
    x, y = digits()
    a = neg.generate("train", 40, x, y)
    assert np.array_equal(a, neg.generate("train", 40, x, y))
    b = neg.generate("eval", 40, x, y)
    assert not any(np.array_equal(i, j) for i in a for j in b)


def test_every_item_is_a_prepared_drawing_no_narrower_than_a_one() -> None:
    x, y = digits()
    out = neg.generate("eval", 60, x, y)
    assert out.shape == (60, 28, 28) and out.dtype == np.uint8
    assert all(neg._ink_width(img) >= neg.MIN_WIDTH for img in out)


def test_fonts_are_split_between_training_and_evaluation() -> None:
    train, evaluation = neg.font_files("DejaVu"), neg.font_files("Liberation")
    if not train or not evaluation:
        pytest.skip("DejaVu and Liberation fonts are not installed")
    assert not set(train) & set(evaluation)


def test_letters_that_read_as_digits_are_left_out() -> None:
    assert not set("OoQDIlijJLTtSsZzBGbgqaYy$&?") & set(neg.LETTERS)
    assert all(d not in (1, 6, 8, 9) for d, _ in neg.CUTOFF_HALVES)


def test_each_epoch_takes_a_new_slice_of_the_pool() -> None:
    pool = np.arange(10, dtype=np.uint8)[:, None, None] * np.ones((1, 28, 28), np.uint8)
    data = TrainingData([], None, negatives=pool)
    x, y = np.zeros((2, 28, 28), np.uint8), np.array([3, 4])
    x0, y0 = with_negatives(x, y, data, 0, 4)
    x1, _ = with_negatives(x, y, data, 1, 4)
    assert y0.tolist() == [3, 4] + [neg.NOT_A_DIGIT] * 4
    assert x0[2:, 0, 0].tolist() == [0, 1, 2, 3] and x1[2:, 0, 0].tolist() == [4, 5, 6, 7]


def test_an_epoch_never_holds_a_non_digit_twice() -> None:
    """A smoke run's pool of a few hundred must not become thousands of repeats an epoch."""
    pool = np.arange(3, dtype=np.uint8)[:, None, None] * np.ones((1, 28, 28), np.uint8)
    data = TrainingData([], None, negatives=pool)
    x, y = with_negatives(np.zeros((1, 28, 28), np.uint8), np.array([5]), data, 2, 100)
    assert y.tolist() == [5] + [neg.NOT_A_DIGIT] * 3
    assert sorted(x[1:, 0, 0].tolist()) == [0, 1, 2]
