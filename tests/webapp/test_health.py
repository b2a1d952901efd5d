"""GET /healthz in-process: workers are counted by their readiness records; 503 says what is
missing, and never names the Redis host."""

from __future__ import annotations

from pathlib import Path

import fakeredis
import redis
from flask import Flask
from flask.testing import FlaskClient

from shared.model_store import ModelStore
from shared.redis_keys import WORKER_TTL_S, worker_heartbeat
from webapp import create_app
from webapp.services import Services
from worker.heartbeat import beat


def test_health_counts_live_workers(app: Flask, client: FlaskClient) -> None:
    resp = client.get("/healthz")
    assert resp.status_code == 503
    assert resp.get_json() == {"redis": "ok", "workers": 0, "model_version": None,
                               "error": "no worker is consuming the queue"}
    r = app.extensions["digitflow"].redis
    beat(r, "w1@test", 1)
    beat(r, "w2@test", 1)
    resp = client.get("/healthz")
    assert resp.status_code == 200 and resp.get_json()["workers"] == 2


def test_redis_down_is_503_without_its_address(tmp_path: Path) -> None:
    down = redis.Redis(host="127.0.0.1", port=1, socket_connect_timeout=0.5)
    services = Services(redis=down, send_task=lambda *a, **k: None,
                        store=ModelStore(str(tmp_path / "models")),
                        announce_activation=lambda v: None, message_queue=None)
    resp = create_app({"model_store": str(tmp_path / "models")}, services).test_client().get(
        "/healthz")
    assert resp.status_code == 503
    body = resp.get_json()
    assert body["redis"] == "down" and body["workers"] == 0 and body["error"]
    assert "127.0.0.1" not in resp.get_data(as_text=True)


def test_readiness_record_expires(app: Flask) -> None:
    r: fakeredis.FakeRedis = app.extensions["digitflow"].redis
    beat(r, "w1@test", 1)
    assert 0 < r.ttl(worker_heartbeat("w1@test")) <= WORKER_TTL_S
