"""The web process SIGKILLed in the middle of a batch and started again on the same port
(issue 9): a Socket.IO client reconnects by itself and is answered again, and the batch, which
lives in Redis and the workers, not in the web process, is still readable and finishes."""

from __future__ import annotations

import signal
import time
from pathlib import Path

import pytest
import requests

from devtools.sio import RecordingClient
from devtools.stack import Stack, start_role, start_stack, stop
from shared.mnist import load_mnist

pytestmark = pytest.mark.integration
N = 1000


@pytest.fixture()
def web_stack(redis_server, tmp_path: Path):  # type: ignore[no-untyped-def]
    url = redis_server.url.rsplit("/", 1)[0] + "/7"
    stack = start_stack(url, tmp_path, workers=1)
    try:
        stack.wait_ready(workers=1)
        yield stack
    finally:
        stack.close()


def _restart_web(stack: Stack) -> None:
    """SIGKILL the web process and start a new one on the same port."""
    assert stack.web is not None
    stop(stack.web, sig=signal.SIGKILL)
    assert stack.web.poll() == -signal.SIGKILL
    port = stack.url.rsplit(":", 1)[1]
    stack.web = start_role("web", stack.env, stack.log_dir, "--port", port)


def test_web_sigkill_clients_reconnect_and_batch_progress_survives(
    web_stack: Stack, mnist_dir: Path
) -> None:
    stack = web_stack
    test = load_mnist("test", mnist_dir)
    seven = test.images[0].tolist()
    items = [{"pixels": img.tolist()} for img in test.images[:N]]
    resp = requests.post(f"{stack.url}/api/batches", json={"images": items}, timeout=120)
    assert resp.status_code == 202
    batch_id = resp.json()["batch_id"]
    client = RecordingClient(stack.url, reconnection=True)
    try:
        client.draw(seven, 1)
        assert client.wait_for("prediction", lambda d: d["seq"] == 1, timeout=30)["digit"] == 7
        assert client.connects == 1

        _restart_web(stack)

        deadline = time.monotonic() + 90
        while client.connects < 2:
            assert time.monotonic() < deadline, f"no reconnect; logs in {stack.log_dir}"
            time.sleep(0.2)
        view = requests.get(f"{stack.url}/api/batches/{batch_id}?results=0", timeout=10).json()
        assert view["total"] == N and 0 <= view["done"] <= N
        assert view["status"] in ("queued", "running", "done")
        client.draw(seven, 2)
        assert client.wait_for("prediction", lambda d: d["seq"] == 2, timeout=30)["digit"] == 7
    finally:
        client.close()

    deadline = time.monotonic() + 180
    while view["status"] != "done":
        assert time.monotonic() < deadline, view
        time.sleep(0.5)
        view = requests.get(f"{stack.url}/api/batches/{batch_id}?results=0", timeout=10).json()
    final = requests.get(f"{stack.url}/api/batches/{batch_id}", timeout=30).json()
    assert [r["index"] for r in final["results"]] == list(range(N))
    assert all("digit" in r for r in final["results"])
