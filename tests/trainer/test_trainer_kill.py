"""The trainer SIGKILLed in the middle of an epoch (issue 9): the training slot frees itself
(its lock has a TTL), no half-written version appears in the model store, and the next job
runs on a new trainer. Training is limited to a few hundred images, as in test_retrain_api."""

from __future__ import annotations

import signal
import time
from pathlib import Path

import pytest
import requests

from shared.model_store import ModelStore
from tests.utils.sio import RecordingClient
from tests.utils.stack import Stack, start_stack, stop

pytestmark = pytest.mark.integration
ADMIN = {"Authorization": "Bearer test-admin-token"}
LOCK_TTL_S = 6  # short, so the test waits seconds, not the default 15 minutes


@pytest.fixture()
def training_stack(redis_server, tmp_path: Path, mnist_dir: Path):  # type: ignore[no-untyped-def]
    url = redis_server.url.rsplit("/", 1)[0] + "/6"
    stack = start_stack(url, tmp_path, workers=1, TRAIN_LIMIT="600",
                        MNIST_DIR=str(mnist_dir), TRAIN_LOCK_TTL_S=str(LOCK_TTL_S))
    stack.start_trainer()
    try:
        stack.wait_ready(workers=1)
        yield stack
    finally:
        stack.close()


def _store_listing(store: str) -> list[str]:
    """Every path in the store folder, so a stray half-written version would show."""
    root = Path(store)
    return sorted(str(p.relative_to(root)) for p in root.rglob("*"))


def _post_train(stack: Stack, epochs: int) -> requests.Response:
    return requests.post(f"{stack.url}/api/train", json={"epochs": epochs}, headers=ADMIN,
                         timeout=10)


def test_trainer_sigkill_mid_epoch_frees_the_slot_and_publishes_nothing(
    training_stack: Stack,
) -> None:
    stack = training_stack
    store = ModelStore(stack.store)
    versions_before = store.versions()
    active_before = store.active()
    listing_before = _store_listing(stack.store)
    watcher = RecordingClient(stack.url)
    try:
        resp = _post_train(stack, 50)  # far more epochs than it will live to see
        assert resp.status_code == 202, resp.text
        job_id = resp.json()["job_id"]
        watcher.sio.emit("subscribe", {"job_id": job_id})
        watcher.wait_for("train_progress", lambda d: d.get("epoch", 0) >= 1, timeout=120)
        trainer = stack.others[0]
        stop(trainer, sig=signal.SIGKILL)  # mid-training: epoch 2 or later is running
        killed_at = time.monotonic()
        stack.others.remove(trainer)
    finally:
        watcher.close()

    assert store.versions() == versions_before
    assert store.active() == active_before
    assert _store_listing(stack.store) == listing_before, "no half version in the store"

    busy = _post_train(stack, 1)
    assert busy.status_code == 409 and busy.json()["job_id"] == job_id, "slot still held"
    while (resp := _post_train(stack, 1)).status_code == 409:
        assert time.monotonic() - killed_at < LOCK_TTL_S + 30, "the lock never expired"
        time.sleep(0.5)
    assert resp.status_code == 202, resp.text
    next_job = resp.json()["job_id"]

    stack.start_trainer()  # `digitflow up` would restart it; here the test does
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        job = requests.get(f"{stack.url}/api/train/{next_job}", timeout=10).json()
        if job["status"] not in ("queued", "running"):
            break
        time.sleep(1)
    assert job["status"] in ("done", "rejected"), job
    assert job["progress"] == 1.0
