"""The one-training-job-at-a-time lock and job records (fakeredis: pure Redis logic)."""

from __future__ import annotations

import fakeredis

from shared import train_jobs as jobs
from shared.redis_keys import TRAIN_LOCK


def test_only_one_job_holds_the_slot() -> None:
    r = fakeredis.FakeRedis()
    assert jobs.try_lock(r, "a") is None
    assert jobs.try_lock(r, "b") == "a"
    jobs.release_lock(r, "b")  # not the holder: no effect
    assert jobs.try_lock(r, "c") == "a"
    jobs.release_lock(r, "a")
    assert jobs.try_lock(r, "c") is None


def test_lock_expires_so_a_killed_trainer_frees_it() -> None:
    r = fakeredis.FakeRedis()
    jobs.try_lock(r, "a")
    assert 0 < r.ttl(TRAIN_LOCK) <= jobs.LOCK_TTL_S
    r.expire(TRAIN_LOCK, 1)
    jobs.refresh_lock(r, "a")
    assert r.ttl(TRAIN_LOCK) > 1


def test_job_records_merge_fields() -> None:
    r = fakeredis.FakeRedis()
    assert jobs.load_job(r, "j") is None
    jobs.save_job(r, "j", status="queued")
    job = jobs.save_job(r, "j", status="running", progress=0.5)
    assert job["status"] == "running" and job["progress"] == 0.5 and job["history"] == []
    assert jobs.load_job(r, "j")["progress"] == 0.5


def test_taking_the_lock_answers_with_the_holder_in_one_step() -> None:
    """The holder comes from the same SET NX GET, so a lock expiring in between cannot make
    a refused caller think it holds the slot."""
    r = fakeredis.FakeRedis()
    assert jobs.try_lock(r, "a") is None
    assert jobs.lock_holder(r) == "a"
    r.delete(TRAIN_LOCK)  # expiry
    assert jobs.try_lock(r, "b") is None and jobs.lock_holder(r) == "b"


def test_a_job_is_claimed_once_whatever_the_deliveries() -> None:
    r = fakeredis.FakeRedis()
    jobs.save_job(r, "j1", status="queued")
    assert jobs.claim_job(r, "j1") is None
    assert jobs.load_job(r, "j1")["status"] == "running"
    assert jobs.claim_job(r, "j1") == "running"  # a second delivery: not trained again
    jobs.save_job(r, "j1", status="done")
    assert jobs.claim_job(r, "j1") == "done"
    assert jobs.claim_job(r, "never-queued") == "unknown"
