"""The web's Prometheus series and `/metrics`, in-process (fakeredis, the recording sender).

Series live in the process's default registry, so each check reads a value before and after.
"""

from __future__ import annotations

import time
from pathlib import Path

import fakeredis
from flask import Flask
from flask.testing import FlaskClient
from kombu.transport.redis import Channel
from prometheus_client import REGISTRY

from shared.model_store import ModelStore
from tests.utils.prometheus_text import sample_names
from tests.utils.recording_sender import RecordingSender
from tests.webapp.conftest import AUTH
from webapp import create_app
from webapp.metrics import SERIES
from webapp.services import Services


def value(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


def test_metrics_needs_the_admin_token(client: FlaskClient) -> None:
    assert client.get("/metrics").status_code == 401
    assert client.get("/metrics", headers={"Authorization": "Bearer wrong"}).status_code == 401
    resp = client.get("/metrics", headers=AUTH)
    assert resp.status_code == 200
    assert resp.content_type.startswith("text/plain")


def test_every_web_series_is_present(client: FlaskClient) -> None:
    client.get("/healthz")
    names = sample_names(client.get("/metrics", headers=AUTH).get_data(as_text=True))
    assert [s for s in SERIES if s not in names] == []


def test_queue_depth_counts_every_priority_step(app: Flask, client: FlaskClient) -> None:
    r = app.extensions["digitflow"].redis
    r.lpush("live", "a", "b")
    r.lpush(f"live{Channel.sep}3", "c")
    r.lpush(f"batch{Channel.sep}9", "d")
    r.hset(Channel.unacked_key, "tag", "x")
    body = client.get("/metrics", headers=AUTH).get_data(as_text=True)
    assert 'digitflow_queue_depth{queue="live"} 3.0' in body
    assert 'digitflow_queue_depth{queue="batch"} 1.0' in body
    assert 'digitflow_queue_depth{queue="training"} 0.0' in body
    assert "digitflow_queue_unacked 1.0" in body


def test_rest_latency_is_labelled_by_url_rule_not_path(client: FlaskClient) -> None:
    labels = {"route": "/api/batches/<batch_id>", "method": "GET", "status": "404"}
    before = value("digitflow_web_request_latency_seconds_count", **labels)
    client.get("/api/batches/" + "a" * 32)
    client.get("/api/batches/" + "b" * 32)
    assert value("digitflow_web_request_latency_seconds_count", **labels) == before + 2
    unmatched = {"route": "unmatched", "method": "GET", "status": "404"}
    before = value("digitflow_web_request_latency_seconds_count", **unmatched)
    client.get("/no/such/page/12345")
    assert value("digitflow_web_request_latency_seconds_count", **unmatched) == before + 1


def test_rate_limit_refusals_are_counted(tmp_path: Path) -> None:
    services = Services(redis=fakeredis.FakeRedis(), send_task=RecordingSender(),
                        store=ModelStore(str(tmp_path / "models")),
                        announce_activation=lambda v: None, message_queue=None)
    app = create_app({"model_store": str(tmp_path / "models"), "rate_limit_predict": "1/minute",
                      "rate_limit_draw": "1/second"}, services)
    client = app.test_client()
    before = value("digitflow_web_rate_limited_total", kind="http")
    assert [client.post("/api/predict", json={}).status_code for _ in range(3)] == [400, 429, 429]
    assert value("digitflow_web_rate_limited_total", kind="http") == before + 2
    before = value("digitflow_web_rate_limited_total", kind="draw")
    sio = app.extensions["socketio"].test_client(app)
    for seq in (1, 2, 3):
        sio.emit("draw", {"pixels": [[0] * 3] * 3, "seq": seq})
    assert value("digitflow_web_rate_limited_total", kind="draw") == before + 2
    sio.disconnect()


def test_connections_and_frames_are_counted(app: Flask, sender: RecordingSender) -> None:
    connections = value("digitflow_web_connections")
    received = value("digitflow_web_frames_received_total")
    coalesced = value("digitflow_web_frames_coalesced_total")
    sio = app.extensions["socketio"].test_client(app)
    assert value("digitflow_web_connections") == connections + 1
    pixels = [[0] * 28 for _ in range(28)]
    for seq in (1, 2, 3):  # the first goes out; 2 is parked, then replaced by 3
        sio.emit("draw", {"pixels": pixels, "seq": seq})
    assert value("digitflow_web_frames_received_total") == received + 3
    assert len(sender.sent) == 1
    sid = sender.sent[0].args[0]
    answered = value("digitflow_web_frames_answered_total")
    latencies = value("digitflow_web_answer_latency_seconds_count")
    # what the Socket.IO message-queue listener calls when a worker's answer passes through
    app.extensions["digitflow_live"].answered(sid)
    assert value("digitflow_web_frames_answered_total") == answered + 1
    assert value("digitflow_web_answer_latency_seconds_count") == latencies + 1
    # frame 3 goes out from another thread (the gate's spawn); it counts frame 2 as coalesced
    deadline = time.monotonic() + 10
    while len(sender.sent) < 2 and time.monotonic() < deadline:
        time.sleep(0.01)
    assert sender.sent[1].args[1] == 3
    assert value("digitflow_web_frames_coalesced_total") == coalesced + 1
    sio.disconnect()
    assert value("digitflow_web_connections") == connections
