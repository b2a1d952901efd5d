"""Readiness is proven through the broker: a stopped worker leaves /healthz within 10 s.

Real redis-server, real Celery workers, real web server; the worker is frozen with SIGSTOP,
which stalls its consumer exactly as a hung broker connection would.
"""

from __future__ import annotations

import os
import signal
import time

import pytest
import requests

from devtools.stack import start_stack, stop

pytestmark = pytest.mark.integration
DROP_OUT_LIMIT_S = 10.0


def wait_for_workers(stack, count: int, timeout: float) -> float:  # type: ignore[no-untyped-def]
    """Seconds until /healthz reports exactly `count` workers; fails after `timeout`."""
    started = time.monotonic()
    body: dict = {}
    while time.monotonic() - started < timeout:
        body = requests.get(f"{stack.url}/healthz", timeout=5).json()
        if body["workers"] == count:
            return time.monotonic() - started
        time.sleep(0.2)
    raise AssertionError(f"/healthz still says {body} after {timeout}s, wanted {count} workers")


def test_a_stopped_worker_drops_out_and_comes_back(stack) -> None:  # type: ignore[no-untyped-def]
    before = stack.healthz()["workers"]
    extra = stack.start_worker("stall", concurrency=2)
    try:
        wait_for_workers(stack, before + 1, timeout=180)
        os.kill(extra.pid, signal.SIGSTOP)
        try:
            gone_after = wait_for_workers(stack, before, timeout=DROP_OUT_LIMIT_S)
            print(f"stalled worker dropped out of /healthz after {gone_after:.1f} s")
        finally:
            os.kill(extra.pid, signal.SIGCONT)
        back_after = wait_for_workers(stack, before + 1, timeout=60)  # a bound, not the target
        print(f"resumed worker back in /healthz after {back_after:.1f} s")
    finally:
        stop(extra)
        stack.workers.remove(extra)


def test_healthz_is_503_saying_what_is_missing_without_workers(redis_server, tmp_path) -> None:  # type: ignore[no-untyped-def]
    lonely = start_stack(redis_server.url.rsplit("/", 1)[0] + "/8", tmp_path, workers=0)
    try:
        lonely.wait_ready(workers=0, timeout=60)
        resp = requests.get(f"{lonely.url}/healthz", timeout=5)
        assert resp.status_code == 503
        body = resp.json()
        assert body["redis"] == "ok" and body["workers"] == 0
        assert "no worker" in body["error"]
    finally:
        lonely.close()
