"""The shared latency window: log-spaced histograms per 5-second slot, merged across writers."""

from __future__ import annotations

import random

import fakeredis

from shared.latency_window import (
    MAX_BUCKET,
    SLOT_S,
    SLOT_TTL_S,
    LatencyWindow,
    bucket_ms,
    bucket_of,
    read_slots,
    summarize,
)
from shared.redis_keys import answer_latency_slot


def test_buckets_are_within_ten_percent() -> None:
    for ms in (0.7, 3.3, 12.0, 95.0, 480.0, 7_300.0):
        assert abs(bucket_ms(bucket_of(ms)) / ms - 1) < 0.1
    assert bucket_of(0.0) == 0 and bucket_of(10**9) == MAX_BUCKET


def test_percentiles_from_two_writers_are_merged() -> None:
    r = fakeredis.FakeRedis()
    now = 1_000_000.0
    rng = random.Random(1)
    a, b = LatencyWindow(r), LatencyWindow(r)  # two web processes
    values = [rng.uniform(5, 50) for _ in range(2000)]
    for i, ms in enumerate(values):
        (a if i % 2 else b).add(ms / 1000, now=now - 30 + i * 0.01)
    a.flush()
    b.flush()
    got = summarize(read_slots(r, now))
    ordered = sorted(values)
    assert got["count"] == 2000
    assert abs(got["p50_ms"] / ordered[999] - 1) < 0.06
    assert abs(got["p99_ms"] / ordered[1979] - 1) < 0.06


def test_the_window_covers_the_last_minute_by_slot() -> None:
    r = fakeredis.FakeRedis()
    now = 1_000_002.0
    w = LatencyWindow(r)
    w.add(0.010, now=now)
    w.add(0.020, now=now - 30)
    w.add(0.030, now=now - 90)  # outside the window
    w.flush()
    slots = read_slots(r, now)
    assert len(slots) == 60 // SLOT_S
    assert slots[-1][0] > now >= slots[-1][0] - SLOT_S  # the newest slot holds "now"
    summary = summarize(slots)
    assert summary["count"] == 2
    assert [s["count"] for s in summary["series"]].count(1) == 2


def test_memory_is_bounded_by_slots_and_buckets() -> None:
    r = fakeredis.FakeRedis()
    w = LatencyWindow(r)
    for i in range(20_000):  # 20,000 answers in one slot
        w.add((i % 3000) / 1000, now=5000.0)
    w.flush()
    key = answer_latency_slot(1000)
    assert r.hlen(key) <= MAX_BUCKET + 1
    assert sum(int(v) for v in r.hvals(key)) == 20_000
    assert 0 < r.ttl(key) <= SLOT_TTL_S


def test_one_flush_is_asked_for_until_it_ran() -> None:
    r = fakeredis.FakeRedis()
    w = LatencyWindow(r)
    assert [w.add(0.01, now=5000.0) for _ in range(3)] == [True, False, False]
    w.flush()
    assert w.add(0.01, now=5000.0)  # the next answer schedules the next flush
    w.flush()
    assert sum(int(v) for v in r.hvals(answer_latency_slot(1000))) == 4
