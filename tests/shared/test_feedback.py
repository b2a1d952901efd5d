"""shared.feedback: the record the web process writes is the one the trainer reads; sources
and the per-source share cap used to pick one retrain's feedback."""

from __future__ import annotations

import json
from collections import Counter

import fakeredis
import numpy as np

from shared.feedback import (
    add_feedback,
    per_source_cap,
    read_feedback,
    select_feedback,
    source_id,
)
from shared.redis_keys import FEEDBACK_LIST


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


def test_the_record_carries_its_source() -> None:
    r = fakeredis.FakeRedis()
    add_feedback(r, np.zeros((28, 28), np.uint8), 3, cap=5, source="abc")
    assert json.loads(r.lindex(FEEDBACK_LIST, 0))["source"] == "abc"


def records(**per_source: int) -> list[dict]:
    """Newest first, sources interleaved as they would arrive."""
    out = []
    left = dict(per_source)
    while any(left.values()):
        for name in list(left):
            if left[name]:
                out.append({"source": name, "label": len(out) % 10})
                left[name] -= 1
    return out


def test_source_id_is_stable_keyed_and_short() -> None:
    a = source_id("10.0.0.1", "k1")
    assert a == source_id("10.0.0.1", "k1")
    assert a != source_id("10.0.0.2", "k1")
    assert a != source_id("10.0.0.1", "k2")
    assert len(a) == 16 and "10.0.0.1" not in a
    assert source_id("\u00e9\udc80", "\u00b2")  # never raises on odd text


def test_one_flooding_address_is_cut_to_a_small_share() -> None:
    chosen = select_feedback(records(attacker=5000, **{f"u{i}": 60 for i in range(20)}),
                             limit=20_000)
    counts = Counter(r["source"] for r in chosen)
    assert counts["attacker"] <= 0.10 * len(chosen)
    assert all(counts[f"u{i}"] == 60 for i in range(20))  # honest users keep everything


def test_a_lone_user_keeps_the_floor() -> None:
    chosen = select_feedback(records(me=500), limit=20_000, floor=50)
    assert len(chosen) == 50
    assert chosen == records(me=500)[:50]  # the newest ones


def test_many_sources_within_their_share_are_untouched() -> None:
    recs = records(**{f"u{i}": 30 for i in range(40)})
    assert select_feedback(recs, limit=20_000) == recs


def test_limit_is_respected_and_legacy_records_count_as_one_source() -> None:
    recs = [{"label": 1}] * 300 + records(**{f"u{i}": 10 for i in range(50)})
    chosen = select_feedback(recs, limit=200, floor=5)
    assert len(chosen) <= 200
    assert sum(1 for r in chosen if "source" not in r) <= 0.10 * 200


def test_cap_formula() -> None:
    assert per_source_cap([], 100) == 50
    assert per_source_cap([1000], 20_000, 0.1, 50) == 50
    # 20 sources of 60 and one of 5000: cap c must satisfy c <= 0.1 * (1200 + c)
    assert per_source_cap([60] * 20 + [5000], 20_000, 0.1, 50) == 133


def test_a_retrain_reads_at_most_a_fair_share_from_a_flooding_address() -> None:
    r = fakeredis.FakeRedis()
    digit = np.zeros((28, 28), np.uint8)
    for i in range(30):  # 30 honest users, 10 drawings each
        for _ in range(10):
            add_feedback(r, digit, 3, cap=10_000, source=f"user{i}")
    for _ in range(2000):  # one address floods mislabelled drawings
        add_feedback(r, digit, 7, cap=10_000, source="attacker")
    _, labels = read_feedback(r, limit=10_000)
    assert int((labels == 3).sum()) == 300  # every honest drawing is kept
    assert int((labels == 7).sum()) <= max(50, 0.10 * len(labels))
