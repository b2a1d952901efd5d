"""Unit tests for shared.settings: defaults, environment overrides and the secret guard."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from pydantic import ValidationError

from shared.settings import DEV_ADMIN_TOKEN, Settings, get_settings

VARS = ("ENV", "REDIS_URL", "MODEL_STORE", "MODEL_CACHE", "ADMIN_TOKEN", "MNIST_DIR", "PORT",
        "HOST", "PREDICT_TIMEOUT_S", "BATCH_CHUNK_SIZE")


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[None]:
    """No digitflow variables and no `.env` file: each test states its own environment."""
    for name in VARS:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)  # `.env` is read from the working directory
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


def test_defaults_match_the_contract() -> None:
    s = Settings()
    assert s.env == "development"
    assert s.redis_url == "redis://127.0.0.1:6379/0"
    assert s.admin_token == DEV_ADMIN_TOKEN
    assert s.port == 5000 and s.mnist_dir is None
    assert s.batch_ttl_s == 24 * 3600 and s.max_request_bytes == 8 * 1024 * 1024


def test_environment_overrides(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("REDIS_URL", "redis://cache.internal:6380/2")
    monkeypatch.setenv("MODEL_STORE", "memory://models")
    monkeypatch.setenv("MNIST_DIR", "/data/mnist")
    monkeypatch.setenv("PORT", "8081")
    monkeypatch.setenv("PREDICT_TIMEOUT_S", "2.5")
    monkeypatch.setenv("batch_chunk_size", "64")  # names are case-insensitive
    s = Settings()
    assert s.redis_url == "redis://cache.internal:6380/2"
    assert s.model_store == "memory://models"
    assert s.mnist_dir == "/data/mnist"
    assert s.port == 8081 and isinstance(s.port, int)
    assert s.predict_timeout_s == 2.5
    assert s.batch_chunk_size == 64


def test_bad_number_in_the_environment_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PORT", "five thousand")
    with pytest.raises(ValidationError, match="port"):
        Settings()


def test_dot_env_file_is_read_and_the_environment_wins(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    (tmp_path / ".env").write_text("PORT=7000\nADMIN_TOKEN=from-dotenv\nUNRELATED=1\n")
    s = Settings()
    assert s.port == 7000 and s.admin_token == "from-dotenv"
    monkeypatch.setenv("PORT", "7001")
    assert Settings().port == 7001


def test_default_admin_token_is_refused_in_production(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ENV", "production")
    with pytest.raises(ValidationError, match="ADMIN_TOKEN must be set"):
        Settings()
    monkeypatch.setenv("ADMIN_TOKEN", DEV_ADMIN_TOKEN)  # spelled out explicitly: still refused
    with pytest.raises(ValidationError, match="ADMIN_TOKEN"):
        Settings()


def test_default_admin_token_is_refused_through_get_settings(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("ENV", "production")
    with pytest.raises(ValidationError, match="ADMIN_TOKEN"):
        get_settings()


@pytest.mark.parametrize("env", ["staging", "prod", "test"])
def test_default_admin_token_is_refused_outside_development(
    monkeypatch: pytest.MonkeyPatch, env: str
) -> None:
    monkeypatch.setenv("ENV", env)
    with pytest.raises(ValidationError, match="ADMIN_TOKEN"):
        Settings()


def test_empty_admin_token_is_refused_in_production(monkeypatch: pytest.MonkeyPatch) -> None:
    """BUG: ADMIN_TOKEN="" passes the guard, and webapp/auth.py then accepts `Bearer ` (empty)."""
    monkeypatch.setenv("ENV", "production")
    monkeypatch.setenv("ADMIN_TOKEN", "")
    with pytest.raises(ValidationError, match="ADMIN_TOKEN"):
        Settings()


def test_a_real_token_is_accepted_in_production(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ENV", "production")
    monkeypatch.setenv("ADMIN_TOKEN", "s3cret-6f1d")
    s = Settings()
    assert s.env == "production" and s.admin_token == "s3cret-6f1d"


def test_default_token_is_fine_in_development() -> None:
    assert Settings().admin_token == DEV_ADMIN_TOKEN


def test_get_settings_is_cached_until_cleared(monkeypatch: pytest.MonkeyPatch) -> None:
    first = get_settings()
    assert get_settings() is first
    monkeypatch.setenv("PORT", "6123")
    assert get_settings().port == 5000  # cached
    get_settings.cache_clear()
    assert get_settings().port == 6123
