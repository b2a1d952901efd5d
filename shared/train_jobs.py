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

from shared.redis_keys import TRAIN_LOCK, train_job
from shared.settings import get_settings

LOCK_TTL_S = 900  # the default of Settings.train_lock_ttl_s (TRAIN_LOCK_TTL_S)
JOB_TTL_S = 7 * 24 * 3600


def try_lock(r: redis.Redis, job_id: str) -> str | None:
    """Take the training slot for `job_id`; returns the holder's job id if already taken."""
    if r.set(TRAIN_LOCK, job_id, nx=True, ex=get_settings().train_lock_ttl_s):
        return None
    holder = r.get(TRAIN_LOCK)
    return holder.decode() if holder else None


def refresh_lock(r: redis.Redis, job_id: str) -> None:
    """Keep the slot while training makes progress."""
    if (r.get(TRAIN_LOCK) or b"").decode() == job_id:
        r.expire(TRAIN_LOCK, get_settings().train_lock_ttl_s)


def release_lock(r: redis.Redis, job_id: str) -> None:
    """Free the slot, but only if this job still holds it."""
    if (r.get(TRAIN_LOCK) or b"").decode() == job_id:
        r.delete(TRAIN_LOCK)


def save_job(r: redis.Redis, job_id: str, **fields: Any) -> dict[str, Any]:
    """Merge `fields` into the job record and return it."""
    job = load_job(r, job_id) or {"job_id": job_id, "history": [], "created": time.time()}
    job.update(fields)
    r.set(train_job(job_id), json.dumps(job), ex=JOB_TTL_S)
    return job


def load_job(r: redis.Redis, job_id: str) -> dict[str, Any] | None:
    raw = r.get(train_job(job_id))
    return json.loads(raw) if raw else None
