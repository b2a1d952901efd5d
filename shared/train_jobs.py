"""Training-job records in Redis: status, progress, metrics, and the one-job-at-a-time lock.

Shared by the web process (creates jobs, answers GET /api/train/<id>) and the trainer (updates
them), so both agree on one format. A lock with a TTL, refreshed every epoch, means a killed
trainer frees the slot by itself instead of blocking retraining forever.
"""

from __future__ import annotations

import json
import time
from typing import Any

import redis

from shared.redis_keys import RECENT_CAP, RECENT_TRAIN_JOBS, TRAIN_LOCK, train_job

LOCK_TTL_S = 900  # the default of Settings.train_lock_ttl_s (TRAIN_LOCK_TTL_S)
JOB_TTL_S = 7 * 24 * 3600
UNFINISHED = ("queued", "running")  # a job's statuses before its trainer saves the last


# Set the lock if free and answer with the previous holder, in one atomic step (Redis 6.2,
# which `digitflow up` embeds, refuses `SET ... NX GET`; a script is atomic on any version).
_TAKE_LOCK = """
if redis.call('SET', KEYS[1], ARGV[1], 'NX', 'EX', ARGV[2]) then return false end
return redis.call('GET', KEYS[1])
"""


def try_lock(r: redis.Redis, job_id: str, ttl_s: int = LOCK_TTL_S) -> str | None:
    """Take the training slot for `job_id`; None if taken, else the holder's job id.

    One script sets the lock only if it is free and otherwise returns the holder, so a lock
    expiring between a SET NX and a GET cannot be read as "you got it".
    """
    holder = r.eval(_TAKE_LOCK, 1, TRAIN_LOCK, job_id, ttl_s)
    return holder.decode() if holder is not None else None


def lock_holder(r: redis.Redis) -> str | None:
    """The job id holding the training slot, or None when it is free."""
    holder = r.get(TRAIN_LOCK)
    return holder.decode() if holder is not None else None


def refresh_lock(r: redis.Redis, job_id: str, ttl_s: int = LOCK_TTL_S) -> None:
    """Keep the slot while training makes progress."""
    if (r.get(TRAIN_LOCK) or b"").decode() == job_id:
        r.expire(TRAIN_LOCK, ttl_s)


def release_lock(r: redis.Redis, job_id: str) -> None:
    """Free the slot, but only if this job still holds it."""
    if (r.get(TRAIN_LOCK) or b"").decode() == job_id:
        r.delete(TRAIN_LOCK)


def save_job(r: redis.Redis, job_id: str, **fields: Any) -> dict[str, Any]:
    """Merge `fields` into the job record and return it."""
    known = load_job(r, job_id)
    job = known or {"job_id": job_id, "history": [], "created": time.time()}
    job.update(fields)
    r.set(train_job(job_id), json.dumps(job), ex=JOB_TTL_S)
    if known is None:  # a new job: the operator view's newest jobs, capped
        r.lpush(RECENT_TRAIN_JOBS, job_id)
        r.ltrim(RECENT_TRAIN_JOBS, 0, RECENT_CAP - 1)
    return job


def load_job(r: redis.Redis, job_id: str) -> dict[str, Any] | None:
    """The job record, or None if unknown or expired."""
    raw = r.get(train_job(job_id))
    return json.loads(raw) if raw else None


def claim_job(r: redis.Redis, job_id: str) -> str | None:
    """Move a queued job to "running", once; None if claimed, else why not (its status).

    A broker may deliver a task twice (kombu restores an unacknowledged message after its
    visibility timeout); the second delivery of a training job then finds it claimed and
    does not train it again.
    """
    key = train_job(job_id)
    with r.pipeline() as pipe:
        while True:
            try:
                pipe.watch(key)
                raw = pipe.get(key)
                job = json.loads(raw) if raw else None
                if job is None or job.get("status") != "queued":
                    pipe.unwatch()
                    return "unknown" if job is None else str(job.get("status"))
                job["status"] = "running"
                pipe.multi()
                pipe.set(key, json.dumps(job), ex=JOB_TTL_S)
                pipe.execute()
                return None
            except redis.WatchError:
                continue


def recent_jobs(r: redis.Redis) -> list[dict[str, Any]]:
    """The newest training jobs (up to RECENT_CAP), without their per-epoch history."""
    jobs = (load_job(r, raw.decode()) for raw in r.lrange(RECENT_TRAIN_JOBS, 0, -1))
    return [{k: v for k, v in job.items() if k != "history"} for job in jobs if job]
