"""The worker's liveness record in Redis: what /healthz counts as a consuming worker.

Written every HEARTBEAT_S with a TTL of WORKER_TTL_S, and only once a model is loaded, so a
worker that died or is still starting never counts.
"""

from __future__ import annotations

import json
import logging
import os
import threading
import time
from collections.abc import Callable

import redis

from shared.redis_keys import WORKER_TTL_S, worker_heartbeat

log = logging.getLogger(__name__)
HEARTBEAT_S = 2.0  # well inside WORKER_TTL_S, so a live worker never drops out of /healthz


def beat(r: redis.Redis, hostname: str, version: int | None) -> None:
    """Write one liveness record (with the version served) that expires unless refreshed."""
    r.set(worker_heartbeat(hostname), json.dumps({"version": version, "pid": os.getpid()}),
          ex=WORKER_TTL_S)


def start_heartbeat(r: redis.Redis, hostname: str, version: Callable[[], int | None]) -> None:
    """Beat in a daemon thread while `version()` says a model is loaded."""

    def loop() -> None:
        while True:
            try:
                current = version()
                if current is not None:
                    beat(r, hostname, current)
            except Exception:
                log.exception("heartbeat failed; retrying")
            time.sleep(HEARTBEAT_S)

    threading.Thread(target=loop, name="heartbeat", daemon=True).start()
