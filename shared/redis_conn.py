"""The one way a process opens Redis: a pooled client per URL, shared by its threads."""

from __future__ import annotations

from functools import lru_cache

import redis


@lru_cache(maxsize=8)
def redis_client(url: str) -> redis.Redis:
    """One pooled client per URL and process."""
    return redis.Redis.from_url(url)
