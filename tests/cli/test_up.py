"""`digitflow up` embeds Redis, brings the whole system up and leaves nothing behind on Ctrl-C."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import urllib.request
import uuid
from pathlib import Path

import psutil
import pytest

from cli.embedded_redis import free_port, redis_reachable

PROJECT_ROOT = Path(__file__).resolve().parents[2]
UP_TIMEOUT_S = 90.0
EXIT_TIMEOUT_S = 20.0
TAG_VAR = "DIGITFLOW_UP_TEST_TAG"

pytestmark = pytest.mark.integration


def _healthz(port: int) -> bool:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=1) as resp:
            return resp.status == 200
    except OSError:
        return False


def _tagged(tag: str) -> list[psutil.Process]:
    """Every live process that inherited our marker variable, wherever it was reparented to."""
    found = []
    for proc in psutil.process_iter():
        try:
            if proc.environ().get(TAG_VAR) == tag and proc.status() != psutil.STATUS_ZOMBIE:
                found.append(proc)
        except (psutil.NoSuchProcess, psutil.AccessDenied, psutil.ZombieProcess):
            pass
    return found


def _embedded_redis_urls(children: list[psutil.Process]) -> list[str]:
    """URLs of the redis-server children, from the ports they listen on (it rewrites argv)."""
    urls = []
    for proc in children:
        try:
            if not proc.name().startswith("redis-server"):
                continue
            for conn in proc.net_connections(kind="tcp"):
                if conn.status == psutil.CONN_LISTEN:
                    assert conn.laddr.ip == "127.0.0.1", conn
                    urls.append(f"redis://127.0.0.1:{conn.laddr.port}/0")
        except psutil.NoSuchProcess:
            continue
    return urls


def test_up_embeds_redis_serves_healthz_and_stops_cleanly_on_sigint(tmp_path: Path) -> None:
    port = free_port()
    tag = uuid.uuid4().hex
    env = dict(os.environ)
    env.pop("MNIST_DIR", None)
    env.update(
        REDIS_URL=f"redis://127.0.0.1:{free_port()}/0",  # nothing listens: up must embed one
        MODEL_STORE=str(tmp_path / "models"),
        PYTHONPATH=os.pathsep.join([str(PROJECT_ROOT), env.get("PYTHONPATH", "")]).rstrip(
            os.pathsep
        ),
        PYTHONUNBUFFERED="1",
    )
    env[TAG_VAR] = tag  # inherited by every descendant, so leftovers can be found afterwards
    log_path = tmp_path / "up.log"
    with open(log_path, "wb") as log_file:
        up = subprocess.Popen(
            [sys.executable, "-m", "cli.main", "up", "--port", str(port), "--workers", "1"],
            cwd=tmp_path,
            env=env,
            stdout=log_file,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        try:
            deadline = time.monotonic() + UP_TIMEOUT_S
            while not _healthz(port):
                assert up.poll() is None, f"up exited early:\n{log_path.read_text()[-5000:]}"
                assert time.monotonic() < deadline, f"no /healthz:\n{log_path.read_text()[-5000:]}"
                time.sleep(0.5)
            # up polls /healthz itself; give it a moment to notice and announce it.
            announce_deadline = time.monotonic() + 10
            while "digitflow is up at" not in log_path.read_text(errors="replace"):
                assert time.monotonic() < announce_deadline, log_path.read_text()[-5000:]
                time.sleep(0.2)

            # redis-server rewrites its argv/environ area, so find it as a direct child instead.
            redis_procs = [p for p in psutil.Process(up.pid).children() if "redis" in p.name()]
            children = [p for p in _tagged(tag) if p.pid != up.pid]
            redis_urls = _embedded_redis_urls(redis_procs)
            assert len(redis_urls) == 1, log_path.read_text()[-5000:]
            assert redis_reachable(redis_urls[0])
            assert (tmp_path / "var" / "redis").is_dir()
            # Worker, trainer and web are all running as our children.
            roles = " ".join(" ".join(c.cmdline()) for c in children)
            for role in ("cli.main worker", "cli.main trainer", "cli.main web"):
                assert role in roles

            up.send_signal(signal.SIGINT)
            code = up.wait(timeout=EXIT_TIMEOUT_S)
            assert code == 0, log_path.read_text()[-5000:]

            _gone, left = psutil.wait_procs(_tagged(tag) + redis_procs, timeout=5)
            assert not left, [(p.pid, p.cmdline()) for p in left]
            assert not redis_reachable(redis_urls[0], timeout=0.2)
        finally:
            if up.poll() is None:
                os.killpg(up.pid, signal.SIGKILL)
                up.wait()
            for proc in _tagged(tag):
                proc.kill()
