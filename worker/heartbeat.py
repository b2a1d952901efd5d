"""The worker's readiness record in Redis, what /healthz counts: written only after this
worker's Celery consumer answered a ping sent through the broker.

A record written by a thread of its own says nothing about the consumer: a worker whose
consumer stalled after a broker reconnect (celery #8030, #9054, #10302) kept beating. Here a
thread pings *this* worker by name through Redis (Celery's remote-control mailbox, which the
consumer's own event loop answers) and writes the record only when the answer came back,
and only once a model is loaded. A stalled, stopped or dead worker stops answering, and its
record expires WORKER_TTL_S later.

The record also carries what the operator view shows (webapp/ops.py): the version served, the
digits classified so far and the rate since the previous record (`items_per_s`).
"""

from __future__ import annotations

import json
import logging
import os
import threading
import time
from collections.abc import Callable

import redis
from celery import Celery

from shared.redis_keys import WORKER_TTL_S, worker_heartbeat

log = logging.getLogger(__name__)
HEARTBEAT_S = 2.0  # a ping every 2 s: a live worker is re-recorded well inside WORKER_TTL_S
PING_TIMEOUT_S = 1.5


class ItemRate:
    """Items per second between two readings of a growing counter."""

    def __init__(self) -> None:
        self._last: tuple[float, int] | None = None

    def update(self, now: float, items: int) -> float | None:
        """The rate since the previous call (None on the first)."""
        last, self._last = self._last, (now, items)
        if last is None or now <= last[0]:
            return None
        return round((items - last[1]) / (now - last[0]), 1)


def beat(r: redis.Redis, hostname: str, version: int | None, items: int | None = None,
         items_per_s: float | None = None) -> None:
    """Write one readiness record (with the version served) that expires unless refreshed."""
    r.set(worker_heartbeat(hostname),
          json.dumps({"version": version, "pid": os.getpid(), "checked": time.time(),
                      "items": items, "items_per_s": items_per_s}),
          ex=WORKER_TTL_S)


def answered(replies: list[dict[str, object]] | None, hostname: str) -> bool:
    """True when `hostname` is among the workers that answered a ping."""
    return any(hostname in reply for reply in replies or [])


def beat_if_consuming(app: Celery, r: redis.Redis, hostname: str, version: int | None,
                      items: int | None = None, items_per_s: float | None = None) -> bool:
    """Ping this worker through the broker; write its record only if it answered."""
    if version is None:  # no model loaded yet: not ready, whatever the consumer does
        return False
    replies = app.control.ping(destination=[hostname], timeout=PING_TIMEOUT_S)
    if not answered(replies, hostname):
        log.warning("worker %s did not answer its own ping through the broker", hostname)
        return False
    beat(r, hostname, version, items, items_per_s)
    return True


def start_heartbeat(app: Celery, r: redis.Redis, hostname: str,
                    version: Callable[[], int | None],
                    items: Callable[[], int] = lambda: 0) -> threading.Thread:
    """Ping-and-record every HEARTBEAT_S in a daemon thread, for the life of the process."""
    rate = ItemRate()

    def loop() -> None:
        while True:
            try:
                n = items()
                beat_if_consuming(app, r, hostname, version(), n, rate.update(time.time(), n))
            except Exception:
                log.exception("readiness ping failed; retrying")
            time.sleep(HEARTBEAT_S)

    thread = threading.Thread(target=loop, name="heartbeat", daemon=True)
    thread.start()
    return thread
