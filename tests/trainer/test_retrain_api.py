"""Retraining through the API with a real trainer process: auth, one job at a time, progress
events, a gated publish. Training is limited to a few thousand images so it takes seconds; the
small model it makes falls short of the bundled one, so the gate must reject it."""

from __future__ import annotations

import time

import numpy as np
import pytest
import requests

from devtools.sio import RecordingClient
from devtools.stack import start_stack
from shared.model_store import ModelStore

pytestmark = pytest.mark.integration
ADMIN = {"Authorization": "Bearer test-admin-token"}


@pytest.fixture(scope="module")
def trainer_stack(redis_server, tmp_path_factory, mnist_dir):  # type: ignore[no-untyped-def]
    url = redis_server.url.rsplit("/", 1)[0] + "/4"
    stack = start_stack(url, tmp_path_factory.mktemp("train"), workers=1, TRAIN_LIMIT="1500",
                        MNIST_DIR=str(mnist_dir))
    stack.start_trainer()
    try:
        stack.wait_ready(workers=1)
        yield stack
    finally:
        stack.close()


def test_train_needs_the_admin_token(trainer_stack) -> None:  # type: ignore[no-untyped-def]
    assert requests.post(f"{trainer_stack.url}/api/train", timeout=10).status_code == 401
    resp = requests.post(f"{trainer_stack.url}/api/train", json={"epochs": 1},
                         headers={"Authorization": "Bearer nope"}, timeout=10)
    assert resp.status_code == 401


def test_bad_epochs_is_400(trainer_stack) -> None:  # type: ignore[no-untyped-def]
    resp = requests.post(f"{trainer_stack.url}/api/train", json={"epochs": "many"},
                         headers=ADMIN, timeout=10)
    assert resp.status_code == 400


def test_feedback_validation(trainer_stack) -> None:  # type: ignore[no-untyped-def]
    url = f"{trainer_stack.url}/api/feedback"
    for body, needle in [({"pixels": [[0] * 28] * 28, "label": 3}, "empty"),
                         ({"pixels": [[99] * 28] * 28, "label": 11}, "label"),
                         ({"label": 3}, "pixels")]:
        resp = requests.post(url, json=body, timeout=10)
        assert resp.status_code == 400 and needle in resp.json()["error"]


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
        resp = requests.post(f"{trainer_stack.url}/api/train", json={"epochs": 2},
                             headers=ADMIN, timeout=10)
        assert resp.status_code == 202, resp.text
        job_id = resp.json()["job_id"]
        client.sio.emit("subscribe", {"job_id": job_id})
        busy = requests.post(f"{trainer_stack.url}/api/train", json={"epochs": 1},
                             headers=ADMIN, timeout=10)
        assert busy.status_code == 409 and busy.json()["job_id"] == job_id
        deadline = time.monotonic() + 240
        while time.monotonic() < deadline:
            job = requests.get(f"{trainer_stack.url}/api/train/{job_id}", timeout=10).json()
            if job["status"] not in ("queued", "running"):
                break
            time.sleep(1)
        assert job["status"] == "rejected", job
        assert job["version"] is not None and "accuracy" in job["message"]
        assert [h["epoch"] for h in job["history"]] == [1, 2]
        assert job["n_feedback"] == 5
        epochs_seen = [e["epoch"] for e in client.of("train_progress") if "epoch" in e]
        assert epochs_seen[:2] == [1, 2]
        meta = store.meta(job["version"])
        assert meta["status"] == "rejected" and meta["reason"]
        assert store.active() == active_before, "a rejected model must not become active"
        # the slot is free again
        again = requests.post(f"{trainer_stack.url}/api/train", json={"epochs": 1},
                              headers=ADMIN, timeout=10)
        assert again.status_code == 202
    finally:
        client.close()
