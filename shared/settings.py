"""The one typed configuration object, read from the environment (and `.env`)."""

from __future__ import annotations

import ipaddress
from functools import lru_cache

from pydantic import model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

DEV_ADMIN_TOKEN = "dev-admin-token"


class Settings(BaseSettings):
    """Every knob of digitflow; each field maps to an upper-case environment variable."""

    model_config = SettingsConfigDict(env_file=".env", extra="ignore")

    env: str = "development"
    redis_url: str = "redis://127.0.0.1:6379/0"
    model_store: str = "var/models"
    model_cache: str = "var/cache/models"
    admin_token: str = DEV_ADMIN_TOKEN
    mnist_dir: str | None = None
    port: int = 5000
    host: str = "127.0.0.1"
    # Reverse proxies in front of the web process that append X-Forwarded-For/-Proto (1 behind
    # deploy/nginx.conf). 0 trusts no such header: a direct client could forge its address.
    trusted_proxies: int = 0

    predict_timeout_s: float = 10.0
    live_task_expires_s: float = 10.0  # a live frame or REST prediction older than this is dropped
    max_connections_per_address: int = 20  # Socket.IO connections one client address may hold
    max_request_bytes: int = 8 * 1024 * 1024
    max_batch_items: int = 20_000
    max_batch_bytes: int = 64 * 1024 * 1024  # one batch request; 20,000 PNG digits are ~10 MB
    batch_chunk_size: int = 128  # images per batch task; two make one forward pass
    # Batch forward passes a worker runs side by side, one thread each (worker/batcher.py);
    # 0: one per core this process may use.
    bulk_lanes: int = 0
    batch_ttl_s: int = 24 * 3600
    # JSON batch bodies above this are read by a child process of the web (webapp/batch_body.py)
    batch_inline_max_bytes: int = 1024 * 1024
    # Niceness of work nobody watches live: batch-only workers and the web's batch reader, so
    # the scheduler serves live drawing first on a shared machine (0 = same as live).
    background_nice: int = 10
    feedback_cap: int = 20_000
    # Per-address quotas (Flask-Limiter strings; see README "Limits and access (web)")
    rate_limits_enabled: bool = True
    rate_limit_predict: str = "120/minute"
    rate_limit_feedback: str = "10/minute;100/day"
    rate_limit_batches: str = "10/minute;100/hour"
    rate_limit_batch_mib: str = "512/hour"  # request MiB of batches per address
    rate_limit_admin: str = "20/minute"  # train and activate: slows token guessing
    rate_limit_admin_read: str = "120/minute"  # /metrics and /api/admin/status (polled)
    rate_limit_socket_connect: str = "60/minute"
    rate_limit_draw: str = "30/second"  # per connection; the page sends at most 10/s
    redis_memory_high: float = 0.8  # new batches get 503 above this share of maxmemory
    train_limit: int | None = None  # train on the first N MNIST images (demos, tests)
    visibility_timeout_s: int = 120
    # The embedded Redis of `digitflow up` (issue 9): its memory cap (a redis-server size such
    # as 512mb or 2gb); it runs with `noeviction`, so a full Redis refuses writes, never drops.
    redis_maxmemory: str = "512mb"
    # How long a training slot outlives a trainer that died without releasing it (refreshed
    # every epoch, so it must exceed the longest epoch).
    train_lock_ttl_s: int = 900
    version_check_interval_s: float = 5.0  # fallback to the pub/sub activation notice
    # Prometheus (README "Metrics"): the web serves /metrics behind the admin token; each
    # worker serves its own on this port (0 = off; `digitflow up` gives worker i base + i - 1),
    # bound to `metrics_host` (loopback unless ENV=production allows another address).
    worker_metrics_port: int = 0
    metrics_host: str = "127.0.0.1"
    flower_port: int = 5555  # `digitflow up --flower`, bound to loopback

    @model_validator(mode="after")
    def _refuse_default_secret_outside_dev(self) -> Settings:
        """Fail fast: a production deployment must never run with the published dev token."""
        if self.env != "development" and self.admin_token.strip() in ("", DEV_ADMIN_TOKEN):
            raise ValueError("ADMIN_TOKEN must be set (not empty) when ENV is not 'development'")
        return self


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """Build settings once per process; tests call `get_settings.cache_clear()` to re-read."""
    return Settings()


def is_loopback(host: str) -> bool:
    """True for `localhost` and loopback addresses; a wildcard or any other name is not."""
    host = host.strip().strip("[]").lower()
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False  # a host name may resolve to anything: treat it as public


def check_bind(host: str, settings: Settings) -> None:
    """Refuse a non-loopback bind outside production mode (issue 9).

    Production mode is where the default admin token is refused, so a server reachable from the
    network can never run with the published one.
    """
    if not is_loopback(host) and settings.env != "production":
        raise ValueError(
            f"refusing to listen on {host!r} with ENV={settings.env!r}: a non-loopback address "
            "needs ENV=production and a secret ADMIN_TOKEN (or bind 127.0.0.1 for development)"
        )
