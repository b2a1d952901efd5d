"""The validation sweep behind the recipe's rejection budgets (`trainer.recalibrate`)."""

from __future__ import annotations

import numpy as np

from trainer.recalibrate import SWEEP_FLOORS, SWEEP_SHARES, sweep_rows


def _softmax(logits: np.ndarray) -> np.ndarray:
    e = np.exp(logits - logits.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def test_every_split_keeps_held_out_digits_within_the_budget() -> None:
    rng = np.random.default_rng(0)
    digits = np.zeros((2000, 11))
    digits[np.arange(2000), rng.integers(0, 10, 2000)] = 6.0
    digits += rng.normal(0, 1.0, digits.shape)
    negatives = rng.normal(0, 1.0, (500, 11))
    negatives[:, 10] += 5.0  # the model mostly says "not a digit" for these
    rows = sweep_rows(_softmax(digits), _softmax(negatives), 1.0, 0.01)
    assert len(rows) == len(SWEEP_SHARES) * len(SWEEP_FLOORS)
    for share, floor, t_nd, _t_amb, held, negs in rows:
        assert held <= 0.01 + 2 / 2000  # quantiles of 2000 digits: within a digit or two
        assert 0.0 <= negs <= 1.0
        if floor == 0.5 and share > 0:
            assert t_nd >= 0.5
    # with the whole budget on the 11th class and no floor, these negatives are all caught
    best = next(r for r in rows if r[0] == 1.0 and r[1] == 0.0)
    assert best[5] > 0.95
