"""Readiness that is proven, not assumed: a worker is listed in /healthz only while its
Celery consumer answers a ping sent through the broker.

A heartbeat written from a thread of its own says nothing about the consumer: a worker whose
consumer stalled after a broker reconnect (celery #8030, #9054, #10302) kept beating. Here a
thread pings *this* worker by name through Redis (Celery's remote-control mailbox, which the
consumer's own event loop answers) and records the heartbeat only when the answer came back.
A stalled or stopped worker stops answering, and its record expires `READY_TTL_S` later.
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

from shared.redis_keys import worker_heartbeat

log = logging.getLogger(__name__)
PING_EVERY_S = 2.0
PING_TIMEOUT_S = 1.5
READY_TTL_S = 6  # a stalled worker drops out of /healthz at most this long after its last pong


def answered(replies: list[dict[str, object]] | None, hostname: str) -> bool:
    """True when `hostname` is among the workers that answered a ping."""
    return any(hostname in reply for reply in replies or [])


def beat_once(app: Celery, client: redis.Redis, hostname: str, version: int | None) -> bool:
    """Ping this worker through the broker; record it as ready only if it answered."""
    if version is None:  # no model loaded yet: not ready, whatever the consumer does
        return False
    replies = app.control.ping(destination=[hostname], timeout=PING_TIMEOUT_S)
    if not answered(replies, hostname):
        log.warning("worker %s did not answer its own ping through the broker", hostname)
        return False
    client.set(worker_heartbeat(hostname),
               json.dumps({"version": version, "pid": os.getpid(), "checked": time.time()}),
               ex=READY_TTL_S)
    return True


def start_readiness_beat(app: Celery, redis_url: str, hostname: str,
                         version: Callable[[], int | None]) -> threading.Thread:
    """Ping-and-record every PING_EVERY_S seconds, for the life of the process."""

    def loop() -> None:
        client = redis.Redis.from_url(redis_url)
        while True:
            try:
                beat_once(app, client, hostname, version())
            except Exception:
                log.exception("readiness ping failed")
            time.sleep(PING_EVERY_S)

    thread = threading.Thread(target=loop, name="readiness", daemon=True)
    thread.start()
    return thread
