"""Batch records: idempotent writes, order, status, expiry (fakeredis: pure Redis logic)."""

from __future__ import annotations

import time

import fakeredis

from shared.batches import (
    add_chunks,
    create_batch,
    load_chunk,
    overdue_chunks,
    read_batch,
    record_results,
)
from shared.redis_keys import ACTIVE_BATCHES, batch_meta, batch_pending, batch_results


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
    assert view["created"] <= view["finished"]
    assert [row["index"] for row in view["results"]] == [0, 1, 2, 3]
    assert view["results"][3] == {"index": 3, "error": "bad"}


def test_unknown_batch_and_progress_only_view() -> None:
    r = fakeredis.FakeRedis()
    assert read_batch(r, "nope") is None
    create_batch(r, "b", total=2, ttl_s=60)
    view = read_batch(r, "b", with_results=False)
    created = view.pop("created")
    assert view == {"batch_id": "b", "total": 2, "done": 0, "status": "queued"}
    assert abs(created - time.time()) < 5


def test_results_expire_with_the_batch() -> None:
    r = fakeredis.FakeRedis()
    create_batch(r, "b", total=1, ttl_s=123)
    record_results(r, "b", {0: {"digit": 0}}, 123)
    assert 0 < r.ttl(batch_meta("b")) <= 123
    assert 0 < r.ttl(batch_results("b")) <= 123


def test_chunks_are_kept_until_their_results_land() -> None:
    r = fakeredis.FakeRedis()
    create_batch(r, "b", total=3, ttl_s=60)
    numbers = add_chunks(r, "b", [([0, 1], ["x", "y"]), ([2], ["z"])], ttl_s=60)
    assert numbers == [0, 1]
    assert load_chunk(r, "b", 1) == ([2], ["z"])
    record_results(r, "b", {2: {"digit": 4}}, 60, chunk=1)
    assert load_chunk(r, "b", 1) is None  # a duplicate delivery now finds nothing to do
    assert load_chunk(r, "b", 0) == ([0, 1], ["x", "y"])
    assert r.sismember(ACTIVE_BATCHES, "b")
    record_results(r, "b", {0: {"digit": 1}, 1: {"digit": 1}}, 60, chunk=0)
    assert not r.sismember(ACTIVE_BATCHES, "b")


def test_overdue_chunks_are_handed_out_once_per_timeout() -> None:
    r = fakeredis.FakeRedis()
    create_batch(r, "b", total=2, ttl_s=60)
    add_chunks(r, "b", [([0], ["x"]), ([1], ["y"])], ttl_s=60)
    assert overdue_chunks(r, older_than_s=30) == []  # just queued: not overdue
    r.hset(batch_pending("b"), "1", time.time() - 31)  # as if its task vanished 31 s ago
    assert overdue_chunks(r, older_than_s=30) == [("b", 1)]
    assert overdue_chunks(r, older_than_s=30) == []  # marked re-sent: not again at once
    record_results(r, "b", {0: {"digit": 0}}, 60, chunk=0)
    record_results(r, "b", {1: {"digit": 0}}, 60, chunk=1)
    r.hset(batch_pending("b"), "1", 0)
    assert overdue_chunks(r, older_than_s=30) == []  # finished batches are not swept


def test_expired_batches_leave_the_active_set() -> None:
    r = fakeredis.FakeRedis()
    create_batch(r, "b", total=1, ttl_s=60)
    add_chunks(r, "b", [([0], ["x"])], ttl_s=60)
    r.delete(batch_meta("b"))
    assert overdue_chunks(r, older_than_s=0) == []
    assert not r.sismember(ACTIVE_BATCHES, "b")
