"""GET /healthz in-process: workers are counted by their heartbeat records."""

from __future__ import annotations

from flask import Flask
from flask.testing import FlaskClient

from worker.heartbeat import beat


def test_health_counts_live_workers(app: Flask, client: FlaskClient) -> None:
    assert client.get("/healthz").get_json() == {"redis": "ok", "workers": 0,
                                                "model_version": None}
    r = app.extensions["digitflow"].redis
    beat(r, "w1@test", 1)
    beat(r, "w2@test", 1)
    assert client.get("/healthz").get_json()["workers"] == 2
