"""Batch records in Redis, written idempotently so a redelivered chunk never counts twice.

Results live in a hash keyed by item index: writing a chunk again (after a worker died and
the broker redelivered it) overwrites the same fields, so `done` (the hash length) and the
results stay exact. Both keys expire after the configured TTL (24 h by default).
"""

from __future__ import annotations

import json
import time
from typing import Any

import redis

from shared.redis_keys import batch_meta, batch_results


def create_batch(r: redis.Redis, batch_id: str, total: int, ttl_s: int) -> None:
    """Record a new batch of `total` items."""
    pipe = r.pipeline()
    pipe.hset(batch_meta(batch_id), mapping={"total": total, "created": time.time(),
                                             "status": "queued"})
    pipe.expire(batch_meta(batch_id), ttl_s)
    pipe.execute()


def record_results(r: redis.Redis, batch_id: str, results: dict[int, dict[str, Any]],
                   ttl_s: int) -> tuple[int, int]:
    """Store results by index (idempotent); returns (done, total)."""
    pipe = r.pipeline()
    if results:
        pipe.hset(batch_results(batch_id),
                  mapping={str(i): json.dumps(res) for i, res in results.items()})
    pipe.expire(batch_results(batch_id), ttl_s)
    pipe.hlen(batch_results(batch_id))
    pipe.hget(batch_meta(batch_id), "total")
    *_, done, total = pipe.execute()
    total = int(total or 0)
    r.hset(batch_meta(batch_id), "status", "done" if done >= total else "running")
    return int(done), total


def read_batch(r: redis.Redis, batch_id: str, with_results: bool = True) -> dict[str, Any] | None:
    """The contract's batch view, results in submission order; None if unknown or expired."""
    meta = r.hgetall(batch_meta(batch_id))
    if not meta:
        return None
    meta = {k.decode(): v.decode() for k, v in meta.items()}
    total = int(meta["total"])
    view: dict[str, Any] = {"batch_id": batch_id, "total": total}
    if with_results:
        raw = r.hgetall(batch_results(batch_id))
        results = sorted(({"index": int(i), **json.loads(v)} for i, v in raw.items()),
                         key=lambda row: row["index"])
        done = len(results)
        view["results"] = results
    else:
        done = int(r.hlen(batch_results(batch_id)))
    view["done"] = done
    view["status"] = meta.get("status", "queued") if done < total else "done"
    if meta.get("status") == "failed":
        view["status"] = "failed"
    return view
