"""`digitflow up`: the whole system on one machine, in one terminal, with one Ctrl-C to stop it.

Starts (or reuses) Redis, N inference workers, the trainer and the web server as child
processes, prefixes their output with their role like honcho does, and on SIGINT/SIGTERM or the
unexpected death of any child shuts everything down so that no process is left behind.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType
from typing import IO

from cli.embedded_redis import RedisServer, free_port, parent_death_signal, redis_reachable
from shared.settings import get_settings

log = logging.getLogger("digitflow.up")
out_log = logging.getLogger("digitflow.up.output")

EMBEDDED_REDIS_FIRST_PORT = 6380
EMBEDDED_REDIS_DATA_DIR = "var/redis"
SHUTDOWN_GRACE_S = 10.0
HEALTH_WARN_AFTER_S = 180.0
POLL_INTERVAL_S = 0.25

# The project root (the folder holding the `cli` package), so children import the same code.
PROJECT_ROOT = Path(__file__).resolve().parent.parent


@dataclass
class Child:
    """One managed role process; it leads its own process group (pgid == pid)."""

    name: str
    argv: list[str]
    proc: subprocess.Popen[bytes] | None = None
    reader: threading.Thread | None = None
    pgid: int = field(default=0)


def _ensure_logging() -> None:
    """Make our INFO lines visible when the caller configured no logging at all."""
    if not logging.getLogger().handlers:
        logging.basicConfig(
            level=logging.INFO, format="%(asctime)s %(message)s", datefmt="%H:%M:%S"
        )
    if log.getEffectiveLevel() > logging.INFO:
        log.setLevel(logging.INFO)
    if not out_log.handlers:
        # Children already stamp level and logger name; ours would only add noise, so their
        # lines get a plain honcho-like "time role | line" format.
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter("%(asctime)s %(message)s", datefmt="%H:%M:%S"))
        out_log.addHandler(handler)
        out_log.propagate = False
        out_log.setLevel(logging.INFO)


def _port_free(port: int) -> bool:
    """True when nothing listens on 127.0.0.1:port (a bind probe, as Redis would do)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def _embedded_redis_port() -> int:
    """First free port from 6380 up: stable across runs (unlike a random port) yet never
    colliding with a system Redis on 6379."""
    for port in range(EMBEDDED_REDIS_FIRST_PORT, EMBEDDED_REDIS_FIRST_PORT + 100):
        if _port_free(port):
            return port
    return free_port()


def _child_env(redis_url: str) -> dict[str, str]:
    """The children's environment: ours, plus the Redis they must use and unbuffered output."""
    env = dict(os.environ)
    env["REDIS_URL"] = redis_url
    env["PYTHONUNBUFFERED"] = "1"
    parts = [str(PROJECT_ROOT)] + [p for p in env.get("PYTHONPATH", "").split(os.pathsep) if p]
    env["PYTHONPATH"] = os.pathsep.join(dict.fromkeys(parts))
    return env


def _plan(port: int, workers: int, host: str) -> list[Child]:
    """The role processes to run, in start order."""
    base = [sys.executable, "-m", "cli.main"]
    children = [
        Child(f"worker{i}", [*base, "worker", "--name", f"worker{i}@%h"])
        for i in range(1, workers + 1)
    ]
    children.append(Child("trainer", [*base, "trainer"]))
    children.append(Child("web", [*base, "web", "--port", str(port), "--host", host]))
    return children


def _forward(name: str, width: int, stream: IO[bytes]) -> None:
    """Copy a child's output line by line to our log, prefixed with its role (honcho style)."""
    prefix = name.ljust(width)
    with contextlib.suppress(ValueError, OSError):
        for raw in iter(stream.readline, b""):
            out_log.info("%s | %s", prefix, raw.decode("utf-8", errors="replace").rstrip())
    with contextlib.suppress(OSError):
        stream.close()


def _spawn(child: Child, env: dict[str, str]) -> None:
    """Start one child in a new session so signals reach it only from us, never the tty."""
    child.proc = subprocess.Popen(
        child.argv,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        env=env,
        start_new_session=True,
        preexec_fn=parent_death_signal(),
    )
    child.pgid = child.proc.pid
    log.info("started %s (pid %s): %s", child.name, child.proc.pid, " ".join(child.argv[1:]))


def _group_alive(pgid: int) -> bool:
    """True while any process (e.g. a Celery pool child) is left in the group."""
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _signal_group(child: Child, sig: signal.Signals) -> None:
    """Signal a child's whole process group; a vanished group is not an error."""
    if child.pgid:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(child.pgid, sig)


def _healthy(url: str, workers: int = 0) -> bool:
    """True when GET url answers 200 and reports at least `workers` workers with a model."""
    try:
        with urllib.request.urlopen(url, timeout=1.0) as resp:  # noqa: S310 - local URL
            body = json.loads(resp.read() or b"{}")
            return int(resp.status) == 200 and int(body.get("workers", 0)) >= workers
    except (urllib.error.URLError, OSError, ValueError):
        return False


def _shutdown(children: list[Child], grace: float = SHUTDOWN_GRACE_S) -> None:
    """SIGTERM every group, wait up to `grace` s for all of them to empty, SIGKILL the rest."""
    started = [c for c in children if c.proc is not None]
    for child in reversed(started):  # web first: stop taking requests before workers go
        _signal_group(child, signal.SIGTERM)
    deadline = time.monotonic() + grace
    while time.monotonic() < deadline:
        for child in started:
            assert child.proc is not None
            child.proc.poll()
        if not any(_group_alive(c.pgid) for c in started):
            break
        time.sleep(0.1)
    for child in started:
        assert child.proc is not None
        if child.proc.poll() is None or _group_alive(child.pgid):
            log.warning(
                "%s did not stop within %.0fs; killing its process group", child.name, grace
            )
            _signal_group(child, signal.SIGKILL)
    for child in started:
        assert child.proc is not None
        with contextlib.suppress(subprocess.TimeoutExpired):
            child.proc.wait(timeout=5)
        if child.reader is not None:
            child.reader.join(timeout=2)
        log.info("%s stopped (code %s)", child.name, child.proc.returncode)


def _display_host(host: str) -> str:
    """A host to connect to: a wildcard bind address is reachable on loopback."""
    return "127.0.0.1" if host in ("0.0.0.0", "", "::") else host


def run_up(port: int, workers: int, host: str) -> int:
    """Run Redis (reused or embedded), workers, trainer and web until a signal; return exit code.

    0 after a requested stop (SIGINT/SIGTERM), 1 if a child died on its own or start-up failed.
    """
    _ensure_logging()
    if workers < 0:
        log.error("--workers must be >= 0, got %s", workers)
        return 2

    stop = threading.Event()
    received: list[int] = []

    def _on_signal(signum: int, _frame: FrameType | None) -> None:
        received.append(signum)
        stop.set()

    previous: dict[int, object] = {}
    if threading.current_thread() is threading.main_thread():
        for sig in (signal.SIGINT, signal.SIGTERM):
            previous[sig] = signal.signal(sig, _on_signal)
    else:
        log.warning("run_up is not on the main thread: SIGINT/SIGTERM handling is disabled")

    redis_server: RedisServer | None = None
    children: list[Child] = []
    code = 0
    try:
        settings = get_settings()
        if redis_reachable(settings.redis_url):
            redis_url = settings.redis_url
            log.info("using the Redis already running at %s", redis_url)
        else:
            redis_server = RedisServer(_embedded_redis_port(), data_dir=EMBEDDED_REDIS_DATA_DIR)
            log.info(
                "no Redis answers at %s; starting an embedded redis-server on 127.0.0.1:%s "
                "(data in %s)",
                settings.redis_url,
                redis_server.port,
                redis_server.data_dir,
            )
            redis_server.start()
            redis_url = redis_server.url
            log.info("embedded Redis ready at %s (pid %s)", redis_url, redis_server.pid)

        if stop.is_set():
            return 0

        env = _child_env(redis_url)
        children = _plan(port, workers, host)
        width = max(len(c.name) for c in children)
        # Spawn everything before any reader thread exists: fork + preexec_fn is only safe
        # while this process is single-threaded.
        for child in children:
            _spawn(child, env)
        for child in children:
            assert child.proc is not None and child.proc.stdout is not None
            child.reader = threading.Thread(
                target=_forward,
                args=(child.name, width, child.proc.stdout),
                name=f"output-{child.name}",
                daemon=True,
            )
            child.reader.start()

        url = f"http://{_display_host(host)}:{port}"
        health_url = f"{url}/healthz"
        is_up = False
        warned = False
        waiting_since = time.monotonic()
        while not stop.is_set():
            dead = [c for c in children if c.proc is not None and c.proc.poll() is not None]
            if dead:
                for child in dead:
                    assert child.proc is not None
                    log.error(
                        "%s exited unexpectedly with code %s; stopping everything",
                        child.name,
                        child.proc.returncode,
                    )
                code = 1
                break
            if not is_up:
                if _healthy(health_url, workers):
                    is_up = True
                    log.info("digitflow is up at %s (%d worker(s) ready); Ctrl-C stops it",
                             url, workers)
                elif not warned and time.monotonic() - waiting_since > HEALTH_WARN_AFTER_S:
                    warned = True
                    log.warning("still waiting for %s to answer 200", health_url)
            stop.wait(POLL_INTERVAL_S)
        if received:
            log.info("received %s; shutting down", signal.Signals(received[0]).name)
    except Exception:
        log.exception("digitflow up failed")
        code = 1
    finally:
        # A second Ctrl-C during shutdown must not abort the clean-up half way.
        for sig in previous:
            with contextlib.suppress(ValueError):
                signal.signal(sig, _on_signal)
        try:
            _shutdown(children)
        finally:
            if redis_server is not None:
                redis_server.stop()
                log.info("embedded Redis stopped")
            for sig, handler in previous.items():
                with contextlib.suppress(ValueError, TypeError):
                    signal.signal(sig, handler)  # type: ignore[arg-type]
    return code
