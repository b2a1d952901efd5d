"""Redis SIGKILLed and restarted (same port, same append-only file) in the middle of a batch,
with a live drawer connected: nothing dies, nothing is lost (issue 9).

Before the fix, the worker died in most runs with kombu's
`AttributeError("'NoneType' object has no attribute 'hostname'")` (see shared/kombu_guard.py),
or stalled with its prefetch window full of unackable messages. Here the worker, the web server
and the socket client are real processes and nothing restarts them: they must recover alone.
"""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from cli.embedded_redis import RedisServer
from devtools.sio import RecordingClient
from devtools.stack import Stack, start_stack
from shared.mnist import load_mnist

pytestmark = pytest.mark.integration
N = 1500
DOWN_S = 3.0
RECOVERY_LIMIT_S = 60.0  # generous on a shared 2-core machine; bench/recovery.py times it


@pytest.fixture()
def own_redis(tmp_path: Path) -> Iterator[RedisServer]:
    """A Redis of this test's own: it gets killed, so it must not be the session's."""
    server = RedisServer(data_dir=tmp_path / "redis").start()
    yield server
    server.stop()


@pytest.fixture()
def stack_on_own_redis(own_redis: RedisServer, tmp_path: Path) -> Iterator[Stack]:
    stack = start_stack(own_redis.url, tmp_path, workers=1)
    try:
        stack.wait_ready(workers=1)
        yield stack
    finally:
        stack.close()


def _first_live_answer(drawer: RecordingClient, pixels: list, first_seq: int) -> dict:
    """Draw until a frame drawn from now on is answered (earlier ones may be lost)."""
    deadline = time.monotonic() + RECOVERY_LIMIT_S
    seq = first_seq
    while True:
        seq += 1
        drawer.draw(pixels, seq)
        try:
            return drawer.wait_for("prediction", lambda d: d["seq"] > first_seq, timeout=1.0)
        except TimeoutError:
            assert time.monotonic() < deadline, "no live answer after the Redis restart"


def _first_rest_answer(url: str, pixels: list) -> dict:
    deadline = time.monotonic() + RECOVERY_LIMIT_S
    while True:
        try:
            resp = requests.post(f"{url}/api/predict", json={"pixels": pixels}, timeout=5)
            if resp.status_code == 200:
                return resp.json()
        except requests.RequestException:
            pass
        assert time.monotonic() < deadline, "no REST answer after the Redis restart"
        time.sleep(0.2)


def _wait_done(url: str, batch_id: str) -> dict:
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        try:
            view = requests.get(f"{url}/api/batches/{batch_id}?results=0", timeout=10).json()
            if view["status"] == "done":
                break
        except requests.RequestException:
            pass
        time.sleep(0.5)
    return requests.get(f"{url}/api/batches/{batch_id}", timeout=30).json()


def test_redis_sigkill_mid_batch_with_a_live_drawer(
    own_redis: RedisServer, stack_on_own_redis: Stack, mnist_dir: Path
) -> None:
    stack = stack_on_own_redis
    test = load_mnist("test", mnist_dir)
    seven = test.images[0].tolist()
    assert int(test.labels[0]) == 7
    drawer = RecordingClient(stack.url)
    try:
        drawer.draw(seven, 1)
        assert drawer.wait_for("prediction", lambda d: d["seq"] == 1, timeout=30)["digit"] == 7
        items = [{"pixels": img.tolist()} for img in test.images[:N]]
        resp = requests.post(f"{stack.url}/api/batches", json={"images": items}, timeout=120)
        assert resp.status_code == 202
        batch_id = resp.json()["batch_id"]
        deadline = time.monotonic() + 120
        while requests.get(f"{stack.url}/api/batches/{batch_id}?results=0",
                           timeout=10).json()["done"] == 0:
            assert time.monotonic() < deadline, "the batch never started"
            time.sleep(0.05)

        os.kill(own_redis.pid or 0, signal.SIGKILL)
        assert own_redis.wait_exit() == -signal.SIGKILL
        time.sleep(DOWN_S)
        own_redis.start()

        assert _first_live_answer(drawer, seven, 1000)["digit"] == 7
        assert _first_rest_answer(stack.url, seven)["digit"] == 7
        view = _wait_done(stack.url, batch_id)
    finally:
        drawer.close()
    assert view["status"] == "done", (view["status"], view["done"])
    assert [r["index"] for r in view["results"]] == list(range(N)), "each index exactly once"
    right = sum(r.get("digit") == int(y) for r, y in zip(view["results"], test.labels[:N],
                                                        strict=True))
    assert right / N >= 0.99
    assert all(w.poll() is None for w in stack.workers), "the worker survived on its own"
    assert stack.web is not None and stack.web.poll() is None
    worker_log = "".join(p.read_text(errors="replace") for p in stack.log_dir.glob("worker-*"))
    assert "Unrecoverable error" not in worker_log
