"""What each epoch of each phase holds, and the replay sample of a fine-tune."""

from __future__ import annotations

import numpy as np

from trainer.data.mix import TrainingData, base_items, pen_items, replay_sample, split_base
from trainer.data.sets import LabelledSet, PenData


def _set(name: str, n: int, value: int) -> LabelledSet:
    return LabelledSet(name, np.full((n, 28, 28), value, np.uint8), np.full(n, value % 10))


def _data() -> TrainingData:
    pool = np.stack([np.full((30, 28, 28), 100 + r, np.uint8) for r in range(4)])
    pen = PenData(pool, LabelledSet("pendigits", pool[0], np.full(30, 3),
                                    np.repeat(np.arange(1, 7), 5)))
    return TrainingData([_set("mnist train", 60, 1), _set("usps train", 20, 2)], pen)


def test_phase_one_is_mnist_plus_repeated_feedback() -> None:
    x, y = base_items(_data(), _set("feedback", 3, 9), feedback_repeat=5)
    assert len(y) == 60 + 15
    assert (x[:, 0, 0] == 9).sum() == 15 and set(np.unique(x[:, 0, 0])) == {1, 9}


def test_without_mnist_phase_one_takes_the_other_sets() -> None:
    data = TrainingData([_set("usps train", 20, 2)], None)
    assert split_base(data) == (data.train, [])
    assert len(base_items(data, None, 5)[1]) == 20


def test_phase_two_is_usps_fresh_drawings_and_mnist_replay() -> None:
    rng = np.random.default_rng(0)
    x0, _ = pen_items(_data(), 0, 2, 40, None, 5, rng)
    x1, _ = pen_items(_data(), 1, 2, 40, None, 5, rng)
    assert set(np.unique(x0[:, 0, 0])) >= {100, 101} and 102 not in x0[:, 0, 0]
    assert set(np.unique(x1[:, 0, 0])) >= {102, 103} and 100 not in x1[:, 0, 0]
    assert len(x0) == 40 + 20 + 2 * 30  # replayed MNIST, all of USPS, two drawings each
    assert (x0[:, 0, 0] == 1).sum() == 40 and (x0[:, 0, 0] == 2).sum() == 20


def test_writers_can_be_left_out() -> None:
    pen = _data().pen.without_writers(np.array([1, 2]))
    assert len(pen.plain) == 20 and pen.pool.shape == (4, 20, 28, 28)
    assert not np.isin(pen.plain.writers, [1, 2]).any()


def test_replay_sample_is_proportional_and_distinct() -> None:
    x, y = replay_sample(_data(), 55, np.random.default_rng(1))
    values = x[:, 0, 0]
    assert abs(len(y) - 55) <= 2
    assert (values == 1).sum() == 30 and (values == 2).sum() == 10  # 60:20:30 of 110
    assert (values >= 100).sum() == 15
