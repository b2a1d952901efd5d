"""`digitflow up` embeds Redis, brings the whole system up, supervises it (restarts a dead
Redis or child, stops on a crash loop) and leaves nothing behind on Ctrl-C."""

from __future__ import annotations

import logging
import os
import signal
import stat
import subprocess
import sys
import threading
import time
import urllib.request
import uuid
from pathlib import Path

import psutil
import pytest

from cli.embedded_redis import free_port, redis_reachable
from cli.up import Child, CrashTracker, OutputPump, _shutdown, _spawn, supervise
from shared.redis_conn import redacted

PROJECT_ROOT = Path(__file__).resolve().parents[2]
UP_TIMEOUT_S = 90.0
EXIT_TIMEOUT_S = 20.0
TAG_VAR = "DIGITFLOW_UP_TEST_TAG"



def test_crash_tracker_backs_off_and_spots_a_crash_loop() -> None:
    t = CrashTracker(max_crashes=5, window_s=60, first_backoff_s=1, max_backoff_s=16)
    delays = []
    for now in (0, 1, 2, 3):
        t.record(now)
        delays.append(t.backoff())
        assert not t.crash_looping()
    assert delays == [1, 2, 4, 8]
    t.record(4)
    assert t.crash_looping(), "5 exits within 60 s"


def test_crash_tracker_forgets_old_exits() -> None:
    t = CrashTracker(max_crashes=3, window_s=10)
    assert [t.record(now) for now in (0, 5, 20, 31)] == [1, 2, 1, 1]
    assert not t.crash_looping() and t.backoff() == t.first_backoff_s


def test_redacted_hides_only_the_password() -> None:
    assert redacted("redis://:s3cret@127.0.0.1:6380/0") == "redis://:**@127.0.0.1:6380/0"
    assert redacted("rediss://user:pw@h:6379/1") == "rediss://user:**@h:6379/1"
    assert redacted("redis://127.0.0.1:6379/0") == "redis://127.0.0.1:6379/0"


def _fast_tracker() -> CrashTracker:
    return CrashTracker(max_crashes=3, window_s=60, first_backoff_s=0.05, max_backoff_s=0.2)


def test_a_crash_looping_child_stops_the_supervisor_and_says_so(
    caplog: pytest.LogCaptureFixture,
) -> None:
    child = Child("flaky", [sys.executable, "-c", "import sys; sys.exit(3)"],
                  crashes=_fast_tracker())
    pump = OutputPump(5)
    with caplog.at_level(logging.INFO, logger="digitflow.up"):
        _spawn(child, dict(os.environ))
        pump.add(child)
        code = supervise([child], dict(os.environ), pump, None, [],
                         f"http://127.0.0.1:{free_port()}/healthz", 0)
    pump.drain()
    assert code == 1
    assert "flaky exited with code 3, 3 times within 60s: it is crash-looping" in caplog.text
    assert caplog.text.count("started flaky") == 3, "restarted twice before giving up"


def test_a_child_that_dies_once_is_restarted_and_runs_on(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    marker = tmp_path / "died-once"
    script = (f"import pathlib, sys, time\np = pathlib.Path({str(marker)!r})\n"
              "if not p.exists():\n    p.touch(); print('dying', flush=True); sys.exit(7)\n"
              "print('second life', flush=True); time.sleep(30)\n")
    child = Child("phoenix", [sys.executable, "-c", script], crashes=_fast_tracker())
    pump = OutputPump(7)
    _spawn(child, dict(os.environ))
    pump.add(child)
    stop: list[int] = []

    def stop_when_reborn() -> None:
        deadline = time.monotonic() + 20
        while "second life" not in caplog.text and time.monotonic() < deadline:
            time.sleep(0.05)
        stop.append(signal.SIGINT)

    watcher = threading.Thread(target=stop_when_reborn)
    with caplog.at_level(logging.INFO, logger="digitflow.up"):
        watcher.start()
        code = supervise([child], dict(os.environ), pump, None, stop,
                         f"http://127.0.0.1:{free_port()}/healthz", 0)
        watcher.join()
        _shutdown([child], grace=5)
        pump.drain()
    assert code == 0
    assert "phoenix exited unexpectedly with code 7" in caplog.text
    assert "second life" in caplog.text
    assert child.proc is not None and child.proc.returncode is not None


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


@pytest.mark.integration
def _wait_for(what: str, check, log_path: Path, timeout: float = 90.0) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, f"{what}:\n{log_path.read_text()[-5000:]}"
        time.sleep(0.3)


def _check_hardened_redis(tmp_path: Path, children: list[psutil.Process], bare_url: str) -> None:
    """The password lives in a 0600 file and every child got it through REDIS_URL."""
    password_file = tmp_path / "var" / "redis" / "redis.password"
    assert stat.S_IMODE(password_file.stat().st_mode) == 0o600
    password = password_file.read_text().strip()
    authed = bare_url.replace("redis://", f"redis://:{password}@")
    assert redis_reachable(authed)
    for child in children:
        if "cli.main" in " ".join(child.cmdline()):
            assert child.environ()["REDIS_URL"] == authed


def _kill_redis_and_see_it_back(up: subprocess.Popen, port: int, redis_proc: psutil.Process,
                                log_path: Path) -> psutil.Process:
    """SIGKILL the embedded Redis: up restarts it on the same port and the system recovers."""
    listening = {c.laddr.port for c in redis_proc.net_connections(kind="tcp")}
    redis_proc.kill()
    _wait_for("Redis restart", lambda: "embedded Redis is back" in log_path.read_text(), log_path)
    assert up.poll() is None
    again = [p for p in psutil.Process(up.pid).children() if "redis" in p.name()]
    assert len(again) == 1 and again[0].pid != redis_proc.pid
    assert {c.laddr.port for c in again[0].net_connections(kind="tcp")
            if c.status == psutil.CONN_LISTEN} == listening
    _wait_for("healthz after the Redis restart", lambda: _healthz(port), log_path)
    return again[0]


def _kill_worker_and_see_it_back(up: subprocess.Popen, port: int,
                                 children: list[psutil.Process], log_path: Path) -> None:
    """SIGKILL the worker: up restarts it with back-off and /healthz counts it again."""
    worker = next(c for c in children if "worker1@" in " ".join(c.cmdline()))
    worker.kill()
    _wait_for("worker restart",
              lambda: "worker1 exited unexpectedly with code -9" in log_path.read_text()
              and log_path.read_text().count("started worker1") == 2, log_path)
    assert up.poll() is None
    _wait_for("healthz after the worker restart", lambda: _healthz(port), log_path, 120)


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
            # up announces once every worker has its model loaded, which can trail the first
            # /healthz answer by many seconds on a loaded machine: a generous bound, not a timing.
            announce_deadline = time.monotonic() + UP_TIMEOUT_S
            while "digitflow is up at" not in log_path.read_text(errors="replace"):
                assert time.monotonic() < announce_deadline, log_path.read_text()[-5000:]
                time.sleep(0.2)

            # redis-server rewrites its argv/environ area, so find it as a direct child instead.
            redis_procs = [p for p in psutil.Process(up.pid).children() if "redis" in p.name()]
            children = [p for p in _tagged(tag) if p.pid != up.pid]
            redis_urls = _embedded_redis_urls(redis_procs)
            assert len(redis_urls) == 1, log_path.read_text()[-5000:]
            assert not redis_reachable(redis_urls[0]), "no password, no access"
            assert (tmp_path / "var" / "redis").is_dir()
            # Worker, trainer and web are all running as our children.
            roles = " ".join(" ".join(c.cmdline()) for c in children)
            for role in ("cli.main worker", "cli.main trainer", "cli.main web"):
                assert role in roles

            _check_hardened_redis(tmp_path, children, redis_urls[0])
            redis_procs.append(_kill_redis_and_see_it_back(up, port, redis_procs[0], log_path))
            _kill_worker_and_see_it_back(up, port, children, log_path)

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
