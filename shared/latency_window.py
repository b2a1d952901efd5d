"""Live answer latencies of the last minute, shared by every web process through Redis.

Prometheus histograms answer "p99 over the last minute" only with a Prometheus server; the
operator view must work without one, and every web process must see the whole system. So
each web process keeps a small ring buffer in Redis (a list of "time latency" strings, capped
at `cap` entries, expiring when the process stops writing), filled from a local buffer at most
once a second (one pipelined round trip, never one per frame). A reader merges every
process's list and keeps the last `window_s` seconds. At more than `cap` answers a minute per
process the window is shorter than a minute: it holds the newest `cap`.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterable

import numpy as np
import redis

from shared.redis_keys import answer_latency, answer_latency_pattern

FLUSH_EVERY_S = 1.0
CAP = 10_000  # entries per web process (about 100 answers/s for a minute)
TTL_S = 120  # a stopped process's buffer disappears after this


class LatencyWindow:
    """One web process's writer: `add` is cheap (a list append); `flush` writes to Redis."""

    def __init__(self, r: redis.Redis, process: str, cap: int = CAP, ttl_s: int = TTL_S) -> None:
        self.redis = r
        self.key = answer_latency(process)
        self.cap, self.ttl_s = cap, ttl_s
        self._pending: list[str] = []
        self._lock = threading.Lock()
        self._last_flush = time.monotonic()

    def add(self, latency_s: float, now: float | None = None) -> bool:
        """Record one answer's latency; True when a flush is due (the caller spawns it)."""
        with self._lock:
            self._pending.append(f"{now or time.time():.3f} {latency_s * 1000:.2f}")
            due = time.monotonic() - self._last_flush >= FLUSH_EVERY_S
            if due:
                self._last_flush = time.monotonic()
            return due

    def flush(self) -> None:
        """Append the pending samples to this process's capped list (one round trip)."""
        with self._lock:
            pending, self._pending = self._pending[-self.cap:], []
        if not pending:
            return
        pipe = self.redis.pipeline(transaction=False)
        pipe.rpush(self.key, *pending)
        pipe.ltrim(self.key, -self.cap, -1)
        pipe.expire(self.key, self.ttl_s)
        pipe.execute()


def read_samples(r: redis.Redis, since: float) -> list[tuple[float, float]]:
    """(time, latency ms) of every web process's answers after `since` (Unix time)."""
    keys = list(r.scan_iter(answer_latency_pattern(), count=100))
    if not keys:
        return []
    pipe = r.pipeline(transaction=False)
    for key in keys:
        pipe.lrange(key, 0, -1)
    samples = []
    for entries in pipe.execute():
        for raw in entries:
            t, ms = raw.split()
            if float(t) >= since:
                samples.append((float(t), float(ms)))
    return samples


def _percentiles(values: Iterable[float]) -> dict[str, float | int | None]:
    arr = np.fromiter(values, dtype=float)
    if not arr.size:
        return {"count": 0, "p50_ms": None, "p99_ms": None}
    p50, p99 = np.percentile(arr, [50, 99])
    return {"count": int(arr.size), "p50_ms": round(float(p50), 2),
            "p99_ms": round(float(p99), 2)}


def summarize(samples: list[tuple[float, float]], now: float, window_s: float = 60.0,
              bucket_s: float = 5.0) -> dict[str, object]:
    """p50/p99 over the window, and per `bucket_s` slice of it (oldest first) for a chart."""
    start = now - window_s
    recent = [(t, ms) for t, ms in samples if t >= start]
    n_buckets = int(window_s // bucket_s)
    buckets: list[list[float]] = [[] for _ in range(n_buckets)]
    for t, ms in recent:
        buckets[min(int((t - start) // bucket_s), n_buckets - 1)].append(ms)
    series = [{"t": round(start + (i + 1) * bucket_s, 3), **_percentiles(b)}
              for i, b in enumerate(buckets)]
    return {"window_s": window_s, "bucket_s": bucket_s, **_percentiles(ms for _, ms in recent),
            "series": series}
