"""Retraining through the API with a real trainer process: auth, one job at a time, progress
events, a gated publish, both modes. Training is limited to a few hundred images so it takes
seconds; the small scratch model falls short of the bundled one, so the gate must reject it."""

from __future__ import annotations

import time

import numpy as np
import pytest
import requests

from devtools.sio import RecordingClient
from devtools.stack import training_stack
from shared import train_jobs as jobs
from shared.model_store import ModelStore
from trainer.recipe import Recipe

pytestmark = pytest.mark.integration
ADMIN = {"Authorization": "Bearer test-admin-token"}


@pytest.fixture(scope="module")
def trainer_stack(redis_server, tmp_path_factory, mnist_dir):  # type: ignore[no-untyped-def]
    url = redis_server.url.rsplit("/", 1)[0] + "/4"
    with training_stack(url, tmp_path_factory.mktemp("train"), TRAIN_LIMIT="600",
                        MNIST_DIR=str(mnist_dir)) as stack:
        yield stack


def _wait(url: str, job_id: str, seconds: float = 900) -> dict:
    """Poll a training job until it leaves queued/running (or time runs out)."""
    deadline = time.monotonic() + seconds
    while True:
        job = requests.get(f"{url}/api/train/{job_id}", timeout=10).json()
        if job["status"] not in jobs.UNFINISHED or time.monotonic() > deadline:
            return job
        time.sleep(1)


def test_train_needs_the_admin_token(trainer_stack) -> None:  # type: ignore[no-untyped-def]
    assert requests.post(f"{trainer_stack.url}/api/train", timeout=10).status_code == 401
    resp = requests.post(f"{trainer_stack.url}/api/train", json={"epochs": 1},
                         headers={"Authorization": "Bearer nope"}, timeout=10)
    assert resp.status_code == 401


def test_bad_epochs_is_400(trainer_stack) -> None:  # type: ignore[no-untyped-def]
    resp = requests.post(f"{trainer_stack.url}/api/train", json={"epochs": "many"},
                         headers=ADMIN, timeout=10)
    assert resp.status_code == 400


def test_bad_mode_is_400(trainer_stack) -> None:  # type: ignore[no-untyped-def]
    for mode in ("warm", 3, None, ["scratch"]):
        resp = requests.post(f"{trainer_stack.url}/api/train", json={"mode": mode},
                             headers=ADMIN, timeout=10)
        assert resp.status_code == 400 and "mode" in resp.json()["error"]


def test_feedback_validation(trainer_stack) -> None:  # type: ignore[no-untyped-def]
    url = f"{trainer_stack.url}/api/feedback"
    for body, needle in [({"pixels": [[0] * 28] * 28, "label": 3}, "empty"),
                         ({"pixels": [[99] * 28] * 28, "label": 11}, "label"),
                         ({"label": 3}, "pixels")]:
        resp = requests.post(url, json=body, timeout=10)
        assert resp.status_code == 400 and needle in resp.json()["error"]


@pytest.mark.timeout(1800)  # two trainings of the two-member ensemble on a shared 2-core box
def test_retrain_streams_progress_and_gates_the_publish(trainer_stack, mnist_dir) -> None:  # type: ignore[no-untyped-def]
    from shared.mnist import load_mnist

    test = load_mnist("test", mnist_dir)
    for img, label in zip(test.images[:5], test.labels[:5], strict=True):
        resp = requests.post(f"{trainer_stack.url}/api/feedback",
                             json={"pixels": np.asarray(img).tolist(), "label": int(label)},
                             timeout=10)
        assert resp.status_code == 201, resp.text
    store = ModelStore(trainer_stack.store)
    active_before = store.active()
    client = RecordingClient(trainer_stack.url)
    try:
        resp = requests.post(f"{trainer_stack.url}/api/train",
                             json={"epochs": 2, "mode": "scratch"}, headers=ADMIN, timeout=10)
        assert resp.status_code == 202, resp.text
        job_id = resp.json()["job_id"]
        client.sio.emit("subscribe", {"job_id": job_id})
        busy = requests.post(f"{trainer_stack.url}/api/train", json={"epochs": 1},
                             headers=ADMIN, timeout=10)
        assert busy.status_code == 409 and busy.json()["job_id"] == job_id
        job = _wait(trainer_stack.url, job_id)
        assert job["status"] == "rejected", job
        assert job["version"] is not None and "worse than active version" in job["message"]
        total = 2 + Recipe().pen_epochs  # 2 epochs of phase 1, then phase 2's
        assert [h["epoch"] for h in job["history"]] == list(range(1, total + 1))
        assert job["n_feedback"] == 5 and job["mode"] == "scratch"
        epochs_seen = [e["epoch"] for e in client.of("train_progress") if "epoch" in e]
        assert epochs_seen[:total] == list(range(1, total + 1))
        meta = store.meta(job["version"])
        assert meta["status"] == "rejected" and meta["reason"] and meta["mode"] == "scratch"
        assert {"mnist_test", "usps_test", "pendigits_train_writers"} <= set(meta["sets"])
        assert meta["gate"]["against_version"] == active_before
        assert store.active() == active_before, "a rejected model must not become active"
        # the slot is free again; the default mode is a fine-tune of the active version
        again = requests.post(f"{trainer_stack.url}/api/train", json={"epochs": 1},
                              headers=ADMIN, timeout=10)
        assert again.status_code == 202
        tuned = _wait(trainer_stack.url, again.json()["job_id"])
        assert tuned["status"] in ("done", "rejected") and tuned["mode"] == "finetune", tuned
        assert len(tuned["history"]) == 1
        meta = store.meta(tuned["version"])
        assert meta["mode"] == "finetune" and meta["data"]["n_feedback"] == 5
    finally:
        client.close()
