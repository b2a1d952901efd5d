"""shared.feedback: the record the web process writes is the one the trainer reads."""

from __future__ import annotations

import fakeredis
import numpy as np

from shared.feedback import add_feedback, read_feedback


def test_written_drawings_are_read_back_newest_first() -> None:
    r = fakeredis.FakeRedis()
    digits = [np.full((28, 28), v, np.uint8) for v in (10, 20, 30)]
    counts = [add_feedback(r, d, label, cap=2) for label, d in enumerate(digits)]
    assert counts == [1, 2, 2]  # capped at 2
    got, labels = read_feedback(r, limit=10)
    assert labels.tolist() == [2, 1]
    assert got.dtype == np.uint8 and np.array_equal(got[0], digits[2])


def test_no_feedback_reads_as_empty_arrays() -> None:
    digits, labels = read_feedback(fakeredis.FakeRedis(), limit=5)
    assert digits.shape == (0, 28, 28) and labels.shape == (0,)
