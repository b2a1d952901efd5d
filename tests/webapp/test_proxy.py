"""TRUSTED_PROXIES: behind nginx, quotas count the client from X-Forwarded-For, not nginx;
without it, the header is ignored (a direct client could forge it)."""

from __future__ import annotations

from pathlib import Path

import fakeredis
from flask.testing import FlaskClient

from shared.model_store import ModelStore
from tests.utils.recording_sender import RecordingSender
from webapp import create_app
from webapp.services import Services

BLANK = {"pixels": [[0] * 28 for _ in range(28)]}


def _client(tmp_path: Path, trusted_proxies: int) -> FlaskClient:
    settings = {"model_store": str(tmp_path / "models"), "predict_timeout_s": 0.05,
                "rate_limit_predict": "1/minute", "trusted_proxies": trusted_proxies}
    services = Services(redis=fakeredis.FakeRedis(), send_task=RecordingSender(),
                        store=ModelStore(settings["model_store"]),
                        announce_activation=lambda _v: None, message_queue=None)
    return create_app(settings, services).test_client()


def _predict_from(client: FlaskClient, forwarded_for: str) -> int:
    return client.post("/api/predict", json=BLANK,
                       headers={"X-Forwarded-For": forwarded_for}).status_code


def test_behind_one_proxy_each_forwarded_client_has_its_own_quota(tmp_path: Path) -> None:
    client = _client(tmp_path, trusted_proxies=1)
    assert _predict_from(client, "203.0.113.1") != 429
    assert _predict_from(client, "203.0.113.2") != 429  # another client: its own quota
    assert _predict_from(client, "203.0.113.1") == 429


def test_without_trusted_proxies_the_header_is_ignored(tmp_path: Path) -> None:
    client = _client(tmp_path, trusted_proxies=0)
    assert _predict_from(client, "203.0.113.1") != 429
    assert _predict_from(client, "203.0.113.2") == 429  # a forged header buys no new quota
