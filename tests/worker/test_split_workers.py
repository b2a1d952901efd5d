"""The layout `digitflow up` runs: a live worker and a niced batch-only worker per slot.

Real redis-server, real Celery workers, real web server. Checked: each worker serves only
its queue (answers name the worker), the batch-only worker runs at BACKGROUND_NICE and in the
SCHED_IDLE class (every thread), and a JSON batch big enough to be read by the web's child
process completes.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

import psutil
import pytest
import requests

from cli.embedded_redis import RedisServer
from devtools.sio import RecordingClient
from devtools.stack import start_stack
from shared.settings import Settings

pytestmark = pytest.mark.integration


def test_live_and_batch_workers_split_the_work(redis_server: RedisServer, tmp_path: Path,
                                               mnist_dir: str) -> None:
    from shared.mnist import load_mnist

    images = load_mnist("test", mnist_dir).images
    stack = start_stack(redis_server.url.rsplit("/", 1)[0] + "/5", tmp_path, workers=1,
                        split=True)
    try:
        stack.wait_ready(workers=2)
        live_proc, batch_proc = (psutil.Process(p.pid) for p in stack.workers)
        nice = Settings().background_nice
        assert nice > 0 and batch_proc.nice() == min(19, live_proc.nice() + nice)
        # every thread of the batch worker (its lanes too) gives way to live work at once
        idle = {os.sched_getscheduler(t.id) for t in batch_proc.threads()}
        assert idle == {os.SCHED_IDLE}, idle
        assert os.sched_getscheduler(live_proc.pid) == os.SCHED_OTHER

        body = {"images": [{"pixels": img.tolist()} for img in images[:1500]]}
        resp = requests.post(f"{stack.url}/api/batches", json=body, timeout=120)
        assert resp.status_code == 202, resp.text  # ~2 MB: read by the niced child process
        batch_id = resp.json()["batch_id"]

        client = RecordingClient(stack.url)
        try:
            client.draw(images[0].tolist(), 1)
            frame = client.wait_for("prediction", lambda d: d["seq"] == 1, timeout=60)
        finally:
            client.close()
        assert frame["worker"].startswith("w1@")  # live frames: the live worker only

        deadline = time.monotonic() + 300
        while time.monotonic() < deadline:
            view = requests.get(f"{stack.url}/api/batches/{batch_id}", timeout=30).json()
            if view["status"] == "done":
                break
            time.sleep(0.5)
        assert view["status"] == "done" and view["total"] == 1500
        assert {r["worker"].split("@")[0] for r in view["results"]} == {"b1"}
    finally:
        stack.close()
