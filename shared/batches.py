"""Batch records in Redis: chunk payloads, pending chunks, and idempotent results.

Results live in a hash keyed by item index, so writing a chunk again (after a redelivery)
overwrites the same fields and `done` (the hash length) stays exact. A chunk's payload stays
in Redis until its results are written, in the same transaction that removes it. So a chunk
whose task was lost (Celery's Redis transport can lose the one message a worker had popped
but not yet recorded when it is SIGKILLed) is still known, and `overdue_chunks` hands it out
again. Every key expires after the batch TTL (24 h by default).
"""

from __future__ import annotations

import json
import time
from typing import Any

import redis

from shared.redis_keys import (
    ACTIVE_BATCHES,
    RECENT_BATCHES,
    RECENT_CAP,
    batch_chunks,
    batch_meta,
    batch_pending,
    batch_results,
)


def create_batch(r: redis.Redis, batch_id: str, total: int, ttl_s: int) -> None:
    """Record a new batch of `total` items."""
    pipe = r.pipeline()
    pipe.hset(batch_meta(batch_id), mapping={"total": total, "created": time.time(),
                                             "status": "queued"})
    pipe.expire(batch_meta(batch_id), ttl_s)
    pipe.lpush(RECENT_BATCHES, batch_id)  # the operator view's newest batches, capped
    pipe.ltrim(RECENT_BATCHES, 0, RECENT_CAP - 1)
    pipe.execute()


def chunk_payload(indices: list[int], items: list[Any]) -> str:
    """A chunk as stored: its items' indices in the batch and their wire forms."""
    return json.dumps({"indices": indices, "items": items})


def add_chunks(r: redis.Redis, batch_id: str, chunks: list[tuple[list[int], list[Any]]],
               ttl_s: int) -> list[int]:
    """Keep each chunk's payload until it is done; returns the chunk numbers to queue."""
    return add_chunk_payloads(r, batch_id, [chunk_payload(i, it) for i, it in chunks], ttl_s)


def add_chunk_payloads(r: redis.Redis, batch_id: str, payloads: list[str | bytes],
                       ttl_s: int, first: int = 0) -> list[int]:
    """`add_chunks` for payloads already serialised (by the web's batch reader child),
    numbered from `first` (a batch stored a few chunks at a time)."""
    if not payloads:
        return []
    now = time.time()
    numbers = list(range(first, first + len(payloads)))
    pipe = r.pipeline()
    pipe.hset(batch_chunks(batch_id), mapping={str(n): p for n, p in zip(numbers, payloads,
                                                                          strict=True)})
    pipe.hset(batch_pending(batch_id), mapping={str(n): now for n in numbers})
    pipe.expire(batch_chunks(batch_id), ttl_s)
    pipe.expire(batch_pending(batch_id), ttl_s)
    pipe.sadd(ACTIVE_BATCHES, batch_id)
    pipe.execute()
    return numbers


def load_chunk(r: redis.Redis, batch_id: str, chunk: int) -> tuple[list[int], list[Any]] | None:
    """A chunk's (indices, items), or None once it is done (or expired)."""
    raw = r.hget(batch_chunks(batch_id), str(chunk))
    if raw is None:
        return None
    body = json.loads(raw)
    return body["indices"], body["items"]


def record_results(r: redis.Redis, batch_id: str, results: dict[int, dict[str, Any]],
                   ttl_s: int, chunk: int | None = None) -> tuple[int, int]:
    """Store results by index (idempotent) and retire the chunk; returns (done, total)."""
    pipe = r.pipeline()  # MULTI: results and chunk removal land together or not at all
    if results:
        pipe.hset(batch_results(batch_id),
                  mapping={str(i): json.dumps(res) for i, res in results.items()})
    if chunk is not None:
        pipe.hdel(batch_chunks(batch_id), str(chunk))
        pipe.hdel(batch_pending(batch_id), str(chunk))
    pipe.expire(batch_results(batch_id), ttl_s)
    pipe.hlen(batch_results(batch_id))
    pipe.hget(batch_meta(batch_id), "total")
    *_, done, total = pipe.execute()
    total = int(total or 0)
    finished = done >= total
    if finished:
        r.hset(batch_meta(batch_id), mapping={"status": "done", "finished": time.time()})
        r.srem(ACTIVE_BATCHES, batch_id)
    else:
        r.hset(batch_meta(batch_id), "status", "running")
    return int(done), total


def overdue_chunks(r: redis.Redis, older_than_s: float) -> list[tuple[str, int]]:
    """Chunks queued more than `older_than_s` ago with no results; marks them re-sent now."""
    now = time.time()
    overdue: list[tuple[str, int]] = []
    for raw_id in r.smembers(ACTIVE_BATCHES):
        batch_id = raw_id.decode()
        if not r.exists(batch_meta(batch_id)):  # expired
            r.srem(ACTIVE_BATCHES, batch_id)
            continue
        for chunk, sent_at in r.hgetall(batch_pending(batch_id)).items():
            if float(sent_at) < now - older_than_s:
                r.hset(batch_pending(batch_id), chunk, now)
                overdue.append((batch_id, int(chunk)))
    return overdue


def read_batch(r: redis.Redis, batch_id: str, with_results: bool = True) -> dict[str, Any] | None:
    """The contract's batch view, results in submission order; None if unknown or expired."""
    meta = r.hgetall(batch_meta(batch_id))
    if not meta:
        return None
    meta = {k.decode(): v.decode() for k, v in meta.items()}
    total = int(meta["total"])
    view: dict[str, Any] = {"batch_id": batch_id, "total": total,
                            "created": float(meta["created"])}
    if "finished" in meta:
        view["finished"] = float(meta["finished"])
    if with_results:
        raw = r.hgetall(batch_results(batch_id))
        results = sorted(({"index": int(i), **json.loads(v)} for i, v in raw.items()),
                         key=lambda row: row["index"])
        done = len(results)
        view["results"] = results
    else:
        done = int(r.hlen(batch_results(batch_id)))
    view["done"] = done
    view["status"] = "done" if done >= total else meta.get("status", "queued")
    return view


def recent_batches(r: redis.Redis) -> list[dict[str, Any]]:
    """The newest batches (up to RECENT_CAP), without their results; expired ones skipped."""
    ids = [raw.decode() for raw in r.lrange(RECENT_BATCHES, 0, -1)]
    return [view for batch_id in ids
            if (view := read_batch(r, batch_id, with_results=False)) is not None]
