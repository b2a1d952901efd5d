"""The one way a process opens Redis: a pooled client per URL, shared by its threads."""

from __future__ import annotations

import urllib.parse
from functools import lru_cache

import redis


@lru_cache(maxsize=8)
def redis_client(url: str) -> redis.Redis:
    """One pooled client per URL and process."""
    return redis.Redis.from_url(url)


def redacted(url: str) -> str:
    """`url` with its password replaced by `**`, so logs never carry the Redis password."""
    parts = urllib.parse.urlsplit(url)
    if not parts.password:
        return url
    netloc = parts.netloc.replace(f":{parts.password}@", ":**@", 1)
    return urllib.parse.urlunsplit(parts._replace(netloc=netloc))
