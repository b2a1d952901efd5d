"""Quotas, security headers, cross-site writes and error texts, in-process (fakeredis)."""

from __future__ import annotations

import io
from pathlib import Path

import fakeredis
from flask import Flask
from flask.testing import FlaskClient

from shared.model_store import ModelStore
from shared.redis_keys import FEEDBACK_LIST
from tests.utils.bad_inputs import png
from tests.utils.recording_sender import RecordingSender
from webapp import create_app
from webapp.services import Services

AUTH = {"Authorization": "Bearer test-admin-token"}


def tight_app(tmp_path: Path, **limits: str) -> Flask:
    settings = {"admin_token": "test-admin-token", "model_store": str(tmp_path / "models"),
                **limits}
    services = Services(redis=fakeredis.FakeRedis(), send_task=RecordingSender(),
                        store=ModelStore(settings["model_store"]),
                        announce_activation=lambda v: None, message_queue=None)
    return create_app(settings, services)


def test_quota_gives_429_with_retry_after_and_json(tmp_path: Path) -> None:
    client = tight_app(tmp_path, rate_limit_feedback="2/minute").test_client()
    codes = [client.post("/api/feedback", json={"label": 1}) for _ in range(3)]
    assert [c.status_code for c in codes] == [400, 400, 429]
    assert int(codes[-1].headers["Retry-After"]) > 0
    assert "too many requests" in codes[-1].get_json()["error"]


def test_quotas_are_per_address(tmp_path: Path) -> None:
    client = tight_app(tmp_path, rate_limit_predict="1/minute").test_client()
    assert client.post("/api/predict", json={}).status_code == 400
    assert client.post("/api/predict", json={}).status_code == 429
    other = client.post("/api/predict", json={}, environ_base={"REMOTE_ADDR": "10.0.0.9"})
    assert other.status_code == 400


def test_batch_byte_budget(tmp_path: Path) -> None:
    client = tight_app(tmp_path, rate_limit_batch_mib="2/hour").test_client()
    padded = {"images": [], "pad": "x" * (1024 * 1024 + 10)}  # 2 MiB of budget each
    assert client.post("/api/batches", json=padded).status_code == 400
    assert client.post("/api/batches", json=padded).status_code == 429


def test_quotas_can_be_switched_off(tmp_path: Path) -> None:
    client = tight_app(tmp_path, rate_limit_predict="1/minute",
                       rate_limits_enabled="false").test_client()
    assert {client.post("/api/predict", json={}).status_code for _ in range(3)} == {400}


def test_security_headers(client: FlaskClient) -> None:
    for path in ("/", "/batch", "/api/models", "/nothing"):
        resp = client.get(path)
        csp = resp.headers["Content-Security-Policy"]
        assert "frame-ancestors 'none'" in csp and "script-src 'self'" in csp
        assert "unsafe-inline" not in csp and "unsafe-eval" not in csp
        assert resp.headers["X-Content-Type-Options"] == "nosniff"


def test_pages_have_no_inline_script_or_style(client: FlaskClient) -> None:
    for path in ("/", "/batch"):
        page = client.get(path).get_data(as_text=True)
        assert "<style" not in page and " style=" not in page
        assert all('src="' in tag for tag in page.split("<script")[1:])


def test_cross_site_writes_are_refused(client: FlaskClient) -> None:
    resp = client.post("/api/feedback", json={"label": 1},
                       headers={"Origin": "https://evil.example"})
    assert resp.status_code == 403 and "cross-site" in resp.get_json()["error"]
    same = client.post("/api/feedback", json={"label": 1}, headers={"Origin": "http://localhost"})
    assert same.status_code == 400  # same origin: on to validation


def test_unknown_model_version_does_not_reveal_the_store(client: FlaskClient,
                                                         tmp_path: Path) -> None:
    resp = client.post("/api/models/999/activate", headers=AUTH)
    assert resp.status_code == 404
    assert resp.get_json() == {"error": "no model version 999"}
    assert str(tmp_path) not in resp.get_data(as_text=True)


def test_non_ascii_token_is_a_401(client: FlaskClient) -> None:
    resp = client.post("/api/train", headers={"Authorization": "Bearer t\u00e9st"})
    assert resp.status_code == 401


def test_feedback_records_a_hashed_source(app: Flask, client: FlaskClient) -> None:
    pixels = [[0] * 28 for _ in range(28)]
    for row in range(6, 22):
        pixels[row][14] = 255
    resp = client.post("/api/feedback", json={"pixels": pixels, "label": "1"},
                       environ_base={"REMOTE_ADDR": "203.0.113.7"})
    assert resp.status_code == 201
    raw = app.extensions["digitflow"].redis.lindex(FEEDBACK_LIST, 0).decode()
    assert '"source": "' in raw and "203.0.113.7" not in raw


def test_multipart_form_parts_follow_the_batch_item_limit(client: FlaskClient) -> None:
    """Werkzeug's form-part limit (default 1,000) is the batch item limit, and a 413 for it
    names too many files, not bytes."""
    def files(n: int) -> dict:
        return {"images": [(io.BytesIO(png()), f"{i}.png") for i in range(n)]}

    assert client.post("/api/batches", data=files(5)).status_code == 202  # the fixture's limit
    counted = client.post("/api/batches", data=files(6))
    assert counted.status_code == 400 and "too many items" in counted.get_json()["error"]
    resp = client.post("/api/batches", data=files(8))
    assert resp.status_code == 413 and "too many files" in resp.get_json()["error"]
