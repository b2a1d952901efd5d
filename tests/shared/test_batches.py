"""Batch records: idempotent writes, order, status, expiry (fakeredis: pure Redis logic)."""

from __future__ import annotations

import fakeredis

from shared.batches import create_batch, read_batch, record_results
from shared.redis_keys import batch_meta, batch_results


def test_redelivered_chunk_never_counts_twice() -> None:
    r = fakeredis.FakeRedis()
    create_batch(r, "b", total=4, ttl_s=60)
    assert record_results(r, "b", {0: {"digit": 1}, 1: {"digit": 2}}, 60) == (2, 4)
    # the same chunk again, as after a worker died before acking it
    assert record_results(r, "b", {0: {"digit": 1}, 1: {"digit": 2}}, 60) == (2, 4)
    assert read_batch(r, "b")["status"] == "running"
    assert record_results(r, "b", {3: {"error": "bad"}, 2: {"digit": 7}}, 60) == (4, 4)
    view = read_batch(r, "b")
    assert view["status"] == "done" and view["done"] == 4
    assert [row["index"] for row in view["results"]] == [0, 1, 2, 3]
    assert view["results"][3] == {"index": 3, "error": "bad"}


def test_unknown_batch_and_progress_only_view() -> None:
    r = fakeredis.FakeRedis()
    assert read_batch(r, "nope") is None
    create_batch(r, "b", total=2, ttl_s=60)
    view = read_batch(r, "b", with_results=False)
    assert view == {"batch_id": "b", "total": 2, "done": 0, "status": "queued"}


def test_results_expire_with_the_batch() -> None:
    r = fakeredis.FakeRedis()
    create_batch(r, "b", total=1, ttl_s=123)
    record_results(r, "b", {0: {"digit": 0}}, 123)
    assert 0 < r.ttl(batch_meta("b")) <= 123
    assert 0 < r.ttl(batch_results("b")) <= 123
