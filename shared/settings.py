"""The one typed configuration object, read from the environment (and `.env`)."""

from __future__ import annotations

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

    predict_timeout_s: float = 10.0
    live_task_expires_s: float = 10.0  # a live frame or REST prediction older than this is dropped
    max_connections_per_address: int = 20  # Socket.IO connections one client address may hold
    max_request_bytes: int = 8 * 1024 * 1024
    max_batch_items: int = 20_000
    max_batch_bytes: int = 256 * 1024 * 1024
    batch_chunk_size: int = 128  # images per batch task; two make one forward pass
    batch_ttl_s: int = 24 * 3600
    feedback_cap: int = 20_000
    train_limit: int | None = None  # train on the first N MNIST images (demos, tests)
    visibility_timeout_s: int = 120
    version_check_interval_s: float = 5.0  # fallback to the pub/sub activation notice

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
