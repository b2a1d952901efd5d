"""The held-out share of the feedback is stable from one retrain to the next."""

from __future__ import annotations

import numpy as np

from trainer.data.feedback import HOLDOUT_EVERY, held_out_mask, split_feedback


def _drawings(n: int, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 256, (n, 28, 28), dtype=np.uint8)


def test_about_one_in_five_is_held_out() -> None:
    share = held_out_mask(_drawings(2000)).mean()
    assert abs(share - 1 / HOLDOUT_EVERY) < 0.03


def test_a_drawing_stays_on_its_side_whatever_comes_with_it() -> None:
    drawings = _drawings(300)
    alone = held_out_mask(drawings[:100])
    with_more = held_out_mask(np.concatenate([_drawings(50, seed=9), drawings]))[50:150]
    np.testing.assert_array_equal(alone, with_more)


def test_split_keeps_labels_with_drawings() -> None:
    drawings = _drawings(200)
    labels = np.arange(200) % 10
    train, held = split_feedback(drawings, labels)
    assert len(train) + len(held) == 200 and len(held) > 0
    mask = held_out_mask(drawings)
    np.testing.assert_array_equal(held.y, labels[mask])
    np.testing.assert_array_equal(train.x, drawings[~mask])


def test_no_feedback_is_two_empty_sets() -> None:
    train, held = split_feedback(np.zeros((0, 28, 28)), np.zeros(0))
    assert len(train) == 0 and len(held) == 0
