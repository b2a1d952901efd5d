"""Admin routes in-process: the token (401), one training job at a time (409), activation."""

from __future__ import annotations

import pytest
from flask import Flask
from flask.testing import FlaskClient

from shared import train_jobs as jobs
from shared.celery_app import RETRAIN_TASK
from shared.model_store import BUNDLED_DIR, MODEL_FILE
from tests.utils.recording_sender import RecordingSender
from tests.webapp.conftest import AUTH


@pytest.mark.parametrize("headers", [{}, {"Authorization": "Bearer wrong"},
                                     {"Authorization": "Basic test-admin-token"}])
@pytest.mark.parametrize("path", ["/api/train", "/api/models/1/activate"])
def test_admin_routes_need_the_token(client: FlaskClient, sender: RecordingSender,
                                     headers: dict, path: str) -> None:
    resp = client.post(path, headers=headers)
    assert resp.status_code == 401 and "admin token" in resp.get_json()["error"]
    assert sender.sent == []


def test_train_queues_one_job_and_refuses_a_second(client: FlaskClient,
                                                   sender: RecordingSender) -> None:
    first = client.post("/api/train", json={"epochs": 2}, headers=AUTH)
    assert first.status_code == 202
    job_id = first.get_json()["job_id"]
    assert [t.args for t in sender.named(RETRAIN_TASK)] == [[job_id, 2, "finetune"]]
    second = client.post("/api/train", headers=AUTH)
    assert second.status_code == 409 and second.get_json()["job_id"] == job_id
    status = client.get(f"/api/train/{job_id}").get_json()
    assert status["status"] == "queued" and status["epochs"] == 2
    assert status["mode"] == "finetune"


def test_train_takes_a_scratch_mode_and_refuses_others(client: FlaskClient,
                                                       sender: RecordingSender) -> None:
    bad = client.post("/api/train", json={"mode": "magic"}, headers=AUTH)
    assert bad.status_code == 400 and "mode" in bad.get_json()["error"]
    assert sender.named(RETRAIN_TASK) == []
    ok = client.post("/api/train", json={"mode": "scratch"}, headers=AUTH)
    assert ok.status_code == 202
    assert [t.args[2] for t in sender.named(RETRAIN_TASK)] == ["scratch"]


def test_a_job_whose_lock_is_gone_reads_as_failed(app: Flask, client: FlaskClient) -> None:
    job_id = client.post("/api/train", headers=AUTH).get_json()["job_id"]
    jobs.release_lock(app.extensions["digitflow"].redis, job_id)  # as when the trainer dies
    assert client.get(f"/api/train/{job_id}").get_json()["status"] == "failed"


def test_a_job_that_finishes_between_the_reads_is_not_failed(app: Flask, client: FlaskClient,
                                                             monkeypatch: pytest.MonkeyPatch
                                                             ) -> None:
    """The trainer saves its final status, then releases the lock. A status read that saw the
    job running and then the lock gone must not call the finished job failed (seen in CI)."""
    r = app.extensions["digitflow"].redis
    job_id = client.post("/api/train", headers=AUTH).get_json()["job_id"]
    jobs.save_job(r, job_id, status="running")
    holder = jobs.lock_holder

    def trainer_finishes_now(redis_: object) -> str | None:
        jobs.save_job(r, job_id, status="rejected", version=2)  # as trainer/tasks.py does
        jobs.release_lock(r, job_id)
        return holder(redis_)

    monkeypatch.setattr(jobs, "lock_holder", trainer_finishes_now)
    status = client.get(f"/api/train/{job_id}").get_json()
    assert status["status"] == "rejected" and status["version"] == 2


@pytest.mark.parametrize("body", [{"epochs": 0}, {"epochs": "3"}, {"epochs": 51}, {"x": 1}])
def test_bad_train_body_is_a_400(client: FlaskClient, body: dict) -> None:
    assert client.post("/api/train", json=body, headers=AUTH).status_code == 400


def test_unknown_training_job_is_404(client: FlaskClient) -> None:
    assert client.get("/api/train/nope").status_code == 404


def test_activate_moves_active_and_announces(app: Flask, client: FlaskClient,
                                             announced: list[int]) -> None:
    store = app.extensions["digitflow"].store
    for _ in range(2):
        store.publish(BUNDLED_DIR / MODEL_FILE, {"test_accuracy": 0.99})
    resp = client.post("/api/models/2/activate", headers=AUTH)
    assert resp.status_code == 200 and resp.get_json() == {"active": 2}
    assert announced == [2]
    listing = client.get("/api/models").get_json()
    assert listing["active"] == 2
    assert [v["status"] for v in listing["versions"]] == ["ready", "active"]


def test_activating_an_unknown_version_is_404(client: FlaskClient,
                                              announced: list[int]) -> None:
    assert client.post("/api/models/9/activate", headers=AUTH).status_code == 404
    assert announced == []
