"""Flower, started as `digitflow up --flower` starts it, sees the live worker and its tasks.

A real redis-server, a real `digitflow worker` and real Flower (`celery -A cli.flower_app
flower`), on a Redis database of their own so the session's other workers stay out of it.
"""

from __future__ import annotations

import os
import subprocess
import time
from pathlib import Path

import numpy as np
import psutil
import pytest
import requests

from cli.embedded_redis import RedisServer, free_port
from cli.up import FLOWER_USER, PROJECT_ROOT, flower_argv, flower_env
from devtools.stack import start_role, stop
from shared.celery_app import PREDICT_TASK, make_celery
from shared.settings import Settings
from shared.wire import checked

pytestmark = pytest.mark.integration
TOKEN = "flower-test-token"
WORKER = "flower1@test"


def _wait_json(url: str, auth: tuple[str, str], ready, timeout: float):  # type: ignore[no-untyped-def]
    """GET url until `ready(body)` is true; returns the body."""
    deadline = time.monotonic() + timeout
    last: object = None
    while time.monotonic() < deadline:
        try:
            resp = requests.get(url, auth=auth, timeout=10)
            last = resp.status_code
            if resp.ok and ready(body := resp.json()):
                return body
        except requests.RequestException as exc:
            last = exc
        time.sleep(1)
    raise TimeoutError(f"{url} not ready after {timeout}s: {last}")


def test_flower_lists_the_live_worker_and_a_task_it_ran(redis_server: RedisServer,
                                                          tmp_path: Path) -> None:
    url = redis_server.url.rsplit("/", 1)[0] + "/7"
    env = {**os.environ, "REDIS_URL": url, "ADMIN_TOKEN": TOKEN,
           "MODEL_STORE": str(tmp_path / "models"), "MODEL_CACHE": str(tmp_path / "cache"),
           "PYTHONUNBUFFERED": "1"}
    port = free_port()
    worker = start_role("worker", env, tmp_path / "logs", "--name", WORKER, "--concurrency", "2")
    flower_log = open(tmp_path / "logs" / "flower.log", "ab")
    flower = subprocess.Popen(flower_argv(port), cwd=PROJECT_ROOT, env={**env, **flower_env(TOKEN)},
                              stdout=flower_log, stderr=subprocess.STDOUT, start_new_session=True)
    base, auth = f"http://127.0.0.1:{port}", (FLOWER_USER, TOKEN)
    try:
        workers = _wait_json(f"{base}/api/workers?refresh=1", auth, lambda b: WORKER in b, 180)
        assert WORKER in workers
        cmdline = " ".join(psutil.Process(flower.pid).cmdline())
        assert redis_server.password not in cmdline and TOKEN not in cmdline
        assert requests.get(f"{base}/api/workers", timeout=10).status_code == 401

        celery = make_celery(Settings(redis_url=url))
        digit = np.zeros((28, 28), np.uint8)
        digit[4:24, 12:16] = 255
        # Flower turns the workers' task events on shortly after it starts: send until a
        # task shows up in its list, with the worker that ran it and its result.
        deadline, seen = time.monotonic() + 90, None
        while seen is None and time.monotonic() < deadline:
            task_id = celery.send_task(PREDICT_TASK, args=[checked({"pixels": digit.tolist()})])
            assert task_id.get(timeout=60)["digit"] == 1
            time.sleep(2)
            tasks = requests.get(f"{base}/api/tasks", auth=auth, timeout=10).json()
            seen = tasks.get(task_id.id)
            if seen is not None and seen.get("name") is None:
                seen = None  # task events came on while it ran: received before, seen after
        assert seen is not None, "Flower never listed a task the worker ran"
        assert seen["name"] == PREDICT_TASK
        assert seen["state"] == "SUCCESS"
        assert seen["worker"] == WORKER
    finally:
        stop(flower)
        stop(worker)
        flower_log.close()
