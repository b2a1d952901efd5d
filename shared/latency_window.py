"""Live answer latencies of the last minute, shared by every web process through Redis.

Prometheus histograms answer "p99 over the last minute" only with a Prometheus server; the
operator view must work without one, and every web process must see the whole system. So
every web process adds its answers to one small histogram per 5-second slot in Redis (a hash:
bucket -> count, log-spaced buckets 10% apart, so a percentile is read within ~5%), from a
local tally written one second after its first answer (one pipelined round trip a second at
most, never one per frame, and no answer left unwritten when the traffic stops).
Memory is bounded by the buckets and slots, not by the traffic: about 12 slots of at most
~120 fields, each slot expiring two minutes after its last write; the whole minute is always
covered, at any load. Reading is 12 HGETALLs in one round trip.
"""

from __future__ import annotations

import math
import threading
import time
from collections import Counter

import redis

from shared.redis_keys import answer_latency_slot

FLUSH_EVERY_S = 1.0
SLOT_S = 5  # one histogram per 5 s: the chart's resolution
SLOT_TTL_S = 120
MIN_MS = 0.5  # bucket 0 holds everything up to 0.5 ms
RATIO = 1.1  # each bucket's upper edge is 10% above the previous one's
MAX_BUCKET = math.ceil(math.log(120_000 / MIN_MS, RATIO))  # 2 minutes and above


def bucket_of(ms: float) -> int:
    """The histogram bucket of a latency in ms."""
    if ms <= MIN_MS:
        return 0
    return min(math.ceil(math.log(ms / MIN_MS, RATIO)), MAX_BUCKET)


def bucket_ms(bucket: int) -> float:
    """A bucket's representative latency: the geometric middle of its edges."""
    return MIN_MS if bucket == 0 else MIN_MS * RATIO ** (bucket - 0.5)


class LatencyWindow:
    """One web process's writer: `add` is a dict increment; `flush` writes to Redis."""

    def __init__(self, r: redis.Redis) -> None:
        self.redis = r
        self._pending: Counter[tuple[int, int]] = Counter()  # (slot, bucket) -> answers
        self._lock = threading.Lock()
        self._scheduled = False  # a flush_soon is on its way

    def add(self, latency_s: float, now: float | None = None) -> bool:
        """Tally one answer's latency. True for the first one since the last flush: the caller
        then spawns `flush_soon`, which writes this second's tally in one go."""
        slot = int((now or time.time()) // SLOT_S)
        with self._lock:
            self._pending[slot, bucket_of(latency_s * 1000)] += 1
            first, self._scheduled = not self._scheduled, True
            return first

    def flush_soon(self) -> None:
        """Wait FLUSH_EVERY_S (gathering answers), then flush: the tail is never left behind."""
        time.sleep(FLUSH_EVERY_S)
        self.flush()

    def flush(self) -> None:
        """Add the tally to the shared slot histograms (one round trip)."""
        with self._lock:
            pending, self._pending = self._pending, Counter()
            self._scheduled = False
        if not pending:
            return
        pipe = self.redis.pipeline(transaction=False)
        for (slot, bucket), n in pending.items():
            pipe.hincrby(answer_latency_slot(slot), str(bucket), n)
        for slot in {slot for slot, _ in pending}:
            pipe.expire(answer_latency_slot(slot), SLOT_TTL_S)
        pipe.execute()


def read_slots(r: redis.Redis, now: float, window_s: float = 60.0) -> list[tuple[float, Counter]]:
    """(slot end time, bucket -> answers) for each slot of the window, oldest first."""
    last = int(now // SLOT_S)
    slots = list(range(last - int(window_s // SLOT_S) + 1, last + 1))
    pipe = r.pipeline(transaction=False)
    for slot in slots:
        pipe.hgetall(answer_latency_slot(slot))
    return [((slot + 1) * SLOT_S, Counter({int(b): int(n) for b, n in raw.items()}))
            for slot, raw in zip(slots, pipe.execute(), strict=True)]


def percentiles(hist: Counter) -> dict[str, float | int | None]:
    """Answer count, p50 and p99 (ms) of one histogram."""
    total = sum(hist.values())
    if not total:
        return {"count": 0, "p50_ms": None, "p99_ms": None}
    found: dict[str, float] = {}
    seen = 0
    for bucket in sorted(hist):
        seen += hist[bucket]
        for name, q in (("p50_ms", 0.5), ("p99_ms", 0.99)):
            if name not in found and seen >= q * total:
                found[name] = round(bucket_ms(bucket), 2)
    return {"count": total, **found}


def summarize(slots: list[tuple[float, Counter]], window_s: float = 60.0) -> dict[str, object]:
    """p50/p99 over the window, and per slot (oldest first) for the chart."""
    whole: Counter = Counter()
    for _, hist in slots:
        whole.update(hist)
    return {"window_s": window_s, "slot_s": SLOT_S, **percentiles(whole),
            "series": [{"t": t, **percentiles(hist)} for t, hist in slots]}
