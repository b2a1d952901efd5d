"""Room for new work: refuse new batches (503) while Redis is near its memory limit.

Redis runs with `maxmemory` and `noeviction`: when full, every write fails, live frames
included. New batches are the one big, deferrable writer, so they are refused first, with a
reason, while there is still room for live drawing and REST predictions.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

import redis

log = logging.getLogger(__name__)
RETRY_AFTER_S = 60


def memory_pressure(info: Mapping[str, Any], high: float) -> str | None:
    """Why there is no room (from Redis `INFO memory`), or None when there is."""
    limit = int(info.get("maxmemory") or 0)
    used = int(info.get("used_memory") or 0)
    if limit <= 0 or used < high * limit:
        return None
    return (f"the server is out of room for new batches (its store is {used * 100 // limit}% "
            "full); live drawing still works, try the batch again later")


def batch_room_problem(client: redis.Redis, high: float) -> str | None:
    """`memory_pressure` for the live Redis; None when INFO cannot be read (not our call)."""
    try:
        info = client.info("memory")
    except redis.RedisError:
        log.exception("could not read Redis memory use")
        return None
    return memory_pressure(info, high)
