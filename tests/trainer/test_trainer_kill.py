"""The trainer SIGKILLed in the middle of an epoch (issue 9): the training slot frees itself
(its lock has a TTL), no half-written version appears in the model store, and the next job
is taken and trained by a new trainer. Training is limited to a few hundred images, as in
test_retrain_api."""

from __future__ import annotations

import signal
import time
from pathlib import Path

import pytest
import redis
import requests

from devtools.stack import Stack, stop, training_stack
from shared.model_store import ModelStore
from shared.redis_keys import TRAIN_LOCK
from shared.train_jobs import load_job

pytestmark = pytest.mark.integration
ADMIN = {"Authorization": "Bearer test-admin-token"}
# Short, so the test waits seconds, not the default 15 minutes, yet longer than the trainer's
# set-up (loading MNIST, building the model: ~12 s on a busy 2-core machine) before epoch 1.
LOCK_TTL_S = 30


@pytest.fixture()
def kill_stack(redis_server, tmp_path: Path, mnist_dir: Path):  # type: ignore[no-untyped-def]
    url = redis_server.url.rsplit("/", 1)[0] + "/6"
    with training_stack(url, tmp_path, TRAIN_LIMIT="600", MNIST_DIR=str(mnist_dir),
                        TRAIN_LOCK_TTL_S=str(LOCK_TTL_S)) as stack:
        yield stack


def _store_listing(store: str) -> list[str]:
    """Every path in the store folder, so a stray half-written version would show."""
    root = Path(store)
    return sorted(str(p.relative_to(root)) for p in root.rglob("*"))


def _post_train(stack: Stack, epochs: int) -> requests.Response:
    return requests.post(f"{stack.url}/api/train", json={"epochs": epochs}, headers=ADMIN,
                         timeout=10)


def test_trainer_sigkill_mid_epoch_frees_the_slot_and_publishes_nothing(
    kill_stack: Stack,
) -> None:
    stack = kill_stack
    store = ModelStore(stack.store)
    versions_before = store.versions()
    active_before = store.active()
    listing_before = _store_listing(stack.store)
    resp = _post_train(stack, 50)  # far more epochs than it will live to see
    assert resp.status_code == 202, resp.text
    job_id = resp.json()["job_id"]
    trainer_log = next(stack.log_dir.glob("trainer-*.log"))
    deadline = time.monotonic() + 120
    while not any(start in trainer_log.read_text(errors="replace")  # epoch 1 started
                  for start in ("fine-tuning ", "phase 1: ")):
        assert time.monotonic() < deadline, trainer_log.read_text()[-3000:]
        time.sleep(0.2)
    time.sleep(1.0)  # well inside epoch 1, which takes seconds
    r = redis.Redis.from_url(stack.redis_url)
    assert r.get(TRAIN_LOCK) == job_id.encode() and 0 < r.ttl(TRAIN_LOCK) <= LOCK_TTL_S
    r.close()
    trainer = stack.others[0]
    stop(trainer, sig=signal.SIGKILL)
    killed_at = time.monotonic()
    stack.others.remove(trainer)

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
    # The new trainer takes the job and starts training it (finishing it would only re-test
    # test_retrain_api at the cost of another minute).
    r = redis.Redis.from_url(stack.redis_url)
    deadline = time.monotonic() + 120
    while (load_job(r, next_job) or {}).get("status") != "running":
        assert time.monotonic() < deadline, load_job(r, next_job)
        time.sleep(0.5)
    r.close()
    new_log = sorted(stack.log_dir.glob("trainer-*.log"))[-1]
    while f"training job {next_job}" not in new_log.read_text(errors="replace"):
        assert time.monotonic() < deadline, new_log.read_text()[-3000:]
        time.sleep(0.5)
