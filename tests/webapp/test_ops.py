"""GET /api/admin/status, in-process on fakeredis: what the operator view shows, and its auth."""

from __future__ import annotations

import time

from flask import Flask
from flask.testing import FlaskClient
from kombu.transport.redis import Channel

from shared.batches import create_batch
from shared.latency_window import LatencyWindow
from shared.redis_keys import RECENT_CAP
from shared.train_jobs import save_job
from tests.webapp.conftest import AUTH
from worker.heartbeat import beat


def test_status_needs_the_admin_token(client: FlaskClient) -> None:
    assert client.get("/api/admin/status").status_code == 401
    resp = client.get("/api/admin/status", headers={"Authorization": "Bearer nope"})
    assert resp.status_code == 401
    assert "admin token" in resp.get_json()["error"]


def test_an_idle_system(client: FlaskClient) -> None:
    body = client.get("/api/admin/status", headers=AUTH).get_json()
    assert body["workers"] == []
    assert body["queues"] == {"live": 0, "batch": 0, "training": 0}
    assert body["latency"]["count"] == 0 and body["latency"]["p99_ms"] is None
    assert len(body["latency"]["series"]) == 12  # 5-second slots of the last minute
    assert body["batches"] == [] and body["train_jobs"] == []


def test_status_shows_workers_queues_latency_and_recent_work(app: Flask,
                                                             client: FlaskClient) -> None:
    r = app.extensions["digitflow"].redis
    beat(r, "w1@host", 4, items=1200, items_per_s=85.5)
    r.lpush("live", "m1")
    r.lpush(f"batch{Channel.sep}6", "m2", "m3")
    window = LatencyWindow(r)
    for ms in [10] * 98 + [400, 400]:
        window.add(ms / 1000)
    window.flush()
    create_batch(r, "b" * 32, 40, 60)
    save_job(r, "j" * 32, status="running", progress=0.5)
    save_job(r, "j" * 32, progress=0.75)  # an update is not a new job

    body = client.get("/api/admin/status", headers=AUTH).get_json()
    [worker] = body["workers"]
    assert worker["name"] == "w1@host" and worker["version"] == 4
    assert worker["items_per_s"] == 85.5 and 0 <= worker["heartbeat_age_s"] < 10
    assert body["queues"] == {"live": 1, "batch": 2, "training": 0}
    latency = body["latency"]
    assert latency["count"] == 100
    assert abs(latency["p50_ms"] - 10) <= 0.5 and abs(latency["p99_ms"] - 400) <= 20
    assert sum(s["count"] for s in latency["series"]) == 100
    assert [b["batch_id"] for b in body["batches"]] == ["b" * 32]
    assert body["batches"][0]["total"] == 40 and body["batches"][0]["status"] == "queued"
    [job] = body["train_jobs"]
    assert job["job_id"] == "j" * 32 and job["progress"] == 0.75 and "history" not in job


def test_recent_lists_are_bounded_newest_first(app: Flask, client: FlaskClient) -> None:
    r = app.extensions["digitflow"].redis
    ids = [f"{i:032x}" for i in range(RECENT_CAP + 5)]
    for batch_id in ids:
        create_batch(r, batch_id, 1, 60)
    body = client.get("/api/admin/status", headers=AUTH).get_json()
    assert [b["batch_id"] for b in body["batches"]] == ids[::-1][:RECENT_CAP]


def test_latency_older_than_a_minute_is_left_out(app: Flask, client: FlaskClient) -> None:
    window = LatencyWindow(app.extensions["digitflow"].redis)
    window.add(0.05, now=time.time() - 120)
    window.add(0.02)
    window.flush()
    latency = client.get("/api/admin/status", headers=AUTH).get_json()["latency"]
    assert latency["count"] == 1
