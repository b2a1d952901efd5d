"""`digitflow up`: the whole system on one machine, in one terminal, with one Ctrl-C to stop it.

Starts (or reuses) Redis, N inference worker slots (each a live worker, and a batch worker at
lower CPU priority so a batch never slows live drawing), the trainer and the web server as child
processes and prefixes their output with their role like honcho does. Then it supervises them:
an embedded Redis that dies is restarted on the same port with the same data, a child that
exits is restarted with exponential back-off, and only Ctrl-C (SIGINT/SIGTERM) or a crash loop
(`CRASH_LOOP_MAX` exits within `CRASH_LOOP_WINDOW_S`) stops everything, so that no process is
left behind.

The supervisor stays single-threaded (children's output is pumped with `selectors`, not reader
threads): every restart forks with a `preexec_fn`, which is only safe in a single-threaded
process.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import selectors
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections import deque
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType

from cli.embedded_redis import RedisServer, free_port, parent_death_signal, redis_reachable
from shared.redis_conn import redacted
from shared.settings import get_settings

log = logging.getLogger("digitflow.up")
out_log = logging.getLogger("digitflow.up.output")

EMBEDDED_REDIS_FIRST_PORT = 6380
EMBEDDED_REDIS_DATA_DIR = "var/redis"
SHUTDOWN_GRACE_S = 10.0
HEALTH_WARN_AFTER_S = 180.0
POLL_INTERVAL_S = 0.25
# A child (or the embedded Redis) that exits this many times within the window is broken,
# not unlucky: restarting it again would only hide the fault, so `up` stops and says so.
CRASH_LOOP_MAX = 5
CRASH_LOOP_WINDOW_S = 60.0
# Restart back-off: 1 s after the first exit in the window, doubling up to 16 s.
BACKOFF_FIRST_S = 1.0
BACKOFF_MAX_S = 16.0

# The project root (the folder holding the `cli` package), so children import the same code.
PROJECT_ROOT = Path(__file__).resolve().parent.parent


@dataclass
class CrashTracker:
    """Recent unexpected exits of one process: decides the back-off and spots a crash loop."""

    max_crashes: int = CRASH_LOOP_MAX
    window_s: float = CRASH_LOOP_WINDOW_S
    first_backoff_s: float = BACKOFF_FIRST_S
    max_backoff_s: float = BACKOFF_MAX_S
    times: deque[float] = field(default_factory=deque)

    def record(self, now: float) -> int:
        """Note an exit at `now`; return how many exits fall in the window (this one included)."""
        self.times.append(now)
        while self.times and self.times[0] < now - self.window_s:
            self.times.popleft()
        return len(self.times)

    def crash_looping(self) -> bool:
        """True once the window holds `max_crashes` exits."""
        return len(self.times) >= self.max_crashes

    def backoff(self) -> float:
        """Seconds to wait before the next restart: doubles with each exit in the window."""
        n = max(len(self.times), 1)
        return min(self.first_backoff_s * 2 ** (n - 1), self.max_backoff_s)


@dataclass
class Child:
    """One managed role process; it leads its own process group (pgid == pid)."""

    name: str
    argv: list[str]
    proc: subprocess.Popen[bytes] | None = None
    pgid: int = field(default=0)
    crashes: CrashTracker = field(default_factory=CrashTracker)
    restart_at: float | None = None  # set while the child is dead and waiting for its restart
    env: dict[str, str] = field(default_factory=dict)  # its own variables, over the shared ones


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


def _worker_env(index: int, metrics_base: int) -> dict[str, str]:
    """Worker process `index` (from 1: worker1, batch1, worker2, ...) serves its metrics on
    base + index - 1 (none when base is 0)."""
    return {"WORKER_METRICS_PORT": str(metrics_base + index - 1)} if metrics_base else {}


FLOWER_USER = "admin"


def flower_argv(port: int) -> list[str]:
    """Flower on loopback, on the broker of the app `cli.flower_app` builds from Settings (the
    Redis password stays in the environment, out of `ps`)."""
    return [sys.executable, "-m", "celery", "-A", "cli.flower_app", "flower",
            "--address=127.0.0.1", f"--port={port}"]


def flower_env(admin_token: str) -> dict[str, str]:
    """Flower's UI and API behind basic auth (user `admin`, the admin token as password),
    passed in the environment (Flower reads FLOWER_* options), never on the command line."""
    return {"FLOWER_BASIC_AUTH": f"{FLOWER_USER}:{admin_token}"}


def _plan(port: int, workers: int, host: str, flower_port: int | None = None,
          metrics_base: int = 0, admin_token: str = "") -> list[Child]:
    """The role processes to run, in start order (Flower last, when asked for)."""
    base = [sys.executable, "-m", "cli.main"]
    children: list[Child] = []
    for i in range(1, workers + 1):  # per slot: a live worker, and a batch one at low priority
        children.append(Child(f"worker{i}", [*base, "worker", "--queues", "live",
                                             "--name", f"worker{i}@%h"],
                              env=_worker_env(2 * i - 1, metrics_base)))
        children.append(Child(f"batch{i}", [*base, "worker", "--queues", "batch",
                                            "--name", f"batch{i}@%h"],
                              env=_worker_env(2 * i, metrics_base)))
    children.append(Child("trainer", [*base, "trainer"]))
    children.append(Child("web", [*base, "web", "--port", str(port), "--host", host]))
    if flower_port:
        children.append(Child("flower", flower_argv(flower_port), env=flower_env(admin_token)))
    return children


def _announce_monitoring(children: list[Child], host: str, port: int,
                         flower_port: int | None) -> None:
    """Say where the metrics and Flower are, once, at start."""
    for child in children:
        if "WORKER_METRICS_PORT" in child.env:
            log.info("%s metrics: http://127.0.0.1:%s/metrics", child.name,
                     child.env["WORKER_METRICS_PORT"])
    log.info("web metrics: http://%s:%d/metrics (Authorization: Bearer $ADMIN_TOKEN)",
             _display_host(host), port)
    if flower_port:
        log.info("Flower: http://127.0.0.1:%d (user %s, password: the admin token)",
                 flower_port, FLOWER_USER)


@dataclass
class _Stream:
    """One child's stdout pipe and its partial last line."""

    name: str
    pending: bytes = b""


class OutputPump:
    """Forwards every child's output line by line, prefixed with its role, from this thread."""

    def __init__(self, width: int) -> None:
        self.width = width
        self.selector = selectors.DefaultSelector()

    def add(self, child: Child) -> None:
        """Start forwarding a freshly spawned child's stdout."""
        assert child.proc is not None and child.proc.stdout is not None
        os.set_blocking(child.proc.stdout.fileno(), False)
        self.selector.register(child.proc.stdout, selectors.EVENT_READ, _Stream(child.name))

    def pump(self, timeout: float) -> None:
        """Forward what is readable within `timeout` s; close and drop streams at EOF."""
        if not self.selector.get_map():
            time.sleep(timeout)
            return
        for key, _ in self.selector.select(timeout):
            stream: _Stream = key.data
            try:
                chunk = os.read(key.fd, 65536)
            except BlockingIOError:
                continue
            except OSError:
                chunk = b""
            if chunk:
                *lines, stream.pending = (stream.pending + chunk).split(b"\n")
            else:  # EOF: the child is gone; forward its unterminated last line too
                lines, stream.pending = [stream.pending], b""
                self.selector.unregister(key.fileobj)
                with contextlib.suppress(OSError):
                    key.fileobj.close()  # type: ignore[union-attr]
            for raw in lines:
                if raw:
                    out_log.info("%s | %s", stream.name.ljust(self.width),
                                 raw.decode("utf-8", errors="replace").rstrip())

    def drain(self) -> None:
        """Forward whatever the stopped children still left in their pipes."""
        deadline = time.monotonic() + 2.0
        while self.selector.get_map() and time.monotonic() < deadline:
            self.pump(0.1)
        self.selector.close()


def _spawn(child: Child, env: dict[str, str]) -> None:
    """Start one child in a new session so signals reach it only from us, never the tty."""
    child.proc = subprocess.Popen(
        child.argv,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        env={**env, **child.env},
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
        log.info("%s stopped (code %s)", child.name, child.proc.returncode)


def _display_host(host: str) -> str:
    """A host to connect to: a wildcard bind address is reachable on loopback."""
    return "127.0.0.1" if host in ("0.0.0.0", "", "::") else host


def start_redis() -> tuple[RedisServer | None, str]:
    """Reuse the Redis at REDIS_URL if it answers, else start the embedded one.

    Returns the embedded server (None when reused) and the URL every child must use; for the
    embedded server that URL carries its password.
    """
    settings = get_settings()
    if redis_reachable(settings.redis_url):
        log.info("using the Redis already running at %s", redacted(settings.redis_url))
        return None, settings.redis_url
    server = RedisServer(_embedded_redis_port(), data_dir=EMBEDDED_REDIS_DATA_DIR,
                         maxmemory=settings.redis_maxmemory)
    log.info(
        "no Redis answers at %s; starting an embedded redis-server on 127.0.0.1:%s "
        "(data in %s, password in %s, maxmemory %s)",
        redacted(settings.redis_url), server.port, server.data_dir,
        server.data_dir / "redis.password", server.maxmemory,
    )
    server.start()
    log.info("embedded Redis ready at %s (pid %s)", redacted(server.url), server.pid)
    return server, server.url


def spawn_all(children: list[Child], env: dict[str, str], pump: OutputPump) -> None:
    """Start every child and forward its output."""
    for child in children:
        _spawn(child, env)
        pump.add(child)


def _note_exit(child: Child, now: float) -> bool:
    """Log a child's unexpected exit and schedule its restart; False if it crash-loops."""
    assert child.proc is not None
    _signal_group(child, signal.SIGKILL)  # leftovers of the dead group must not linger
    n = child.crashes.record(now)
    if child.crashes.crash_looping():
        log.error("%s exited with code %s, %d times within %.0fs: it is crash-looping; "
                  "stopping everything", child.name, child.proc.returncode, n,
                  child.crashes.window_s)
        return False
    delay = child.crashes.backoff()
    child.restart_at = now + delay
    log.warning("%s exited unexpectedly with code %s (%d in the last %.0fs); restarting it "
                "in %.1fs", child.name, child.proc.returncode, n, child.crashes.window_s, delay)
    return True


def _keep_redis(server: RedisServer, crashes: CrashTracker) -> bool:
    """Restart a dead embedded Redis on the same port and data; False if it crash-loops."""
    code = server.exit_code()
    n = crashes.record(time.monotonic())
    if crashes.crash_looping():
        log.error("embedded Redis exited %d times within %.0fs (last code %s); stopping "
                  "everything", n, crashes.window_s, code)
        return False
    log.warning("embedded Redis (pid %s) exited with code %s; restarting it on port %s with "
                "the data in %s", server.pid, code, server.port, server.data_dir)
    try:
        server.start()
    except RuntimeError:
        log.exception("embedded Redis did not come back; trying again")
        return True
    log.info("embedded Redis is back (pid %s)", server.pid)
    return True


def supervise(children: list[Child], env: dict[str, str], pump: OutputPump,
              redis_server: RedisServer | None, stop: list[int], health_url: str,
              workers: int) -> int:
    """Restart what dies until a signal arrives (0) or something crash-loops (1)."""
    redis_crashes = CrashTracker()
    announced = warned = False
    waiting_since = time.monotonic()
    while not stop:
        now = time.monotonic()
        if redis_server is not None and not redis_server.running():
            if not _keep_redis(redis_server, redis_crashes):
                return 1
        for child in children:
            assert child.proc is not None
            if child.restart_at is None and child.proc.poll() is not None:
                if not _note_exit(child, now):
                    return 1
            elif child.restart_at is not None and now >= child.restart_at:
                child.restart_at = None
                spawn_all([child], env, pump)
        if not announced and _healthy(health_url, workers):
            announced = True
            log.info("digitflow is up at %s (%d worker(s) ready); Ctrl-C stops it",
                     health_url.removesuffix("/healthz"), workers)
        elif not announced and not warned and now - waiting_since > HEALTH_WARN_AFTER_S:
            warned = True
            log.warning("still waiting for %s to answer 200", health_url)
        pump.pump(POLL_INTERVAL_S)
    return 0


def _install_signals(received: list[int]) -> dict[int, object]:
    """Record SIGINT/SIGTERM in `received`; return the previous handlers to restore."""

    def _on_signal(signum: int, _frame: FrameType | None) -> None:
        received.append(signum)

    previous: dict[int, object] = {}
    if threading.current_thread() is not threading.main_thread():
        log.warning("run_up is not on the main thread: SIGINT/SIGTERM handling is disabled")
        return previous
    for sig in (signal.SIGINT, signal.SIGTERM):
        previous[sig] = signal.signal(sig, _on_signal)
    return previous


def run_up(port: int, workers: int, host: str, flower: bool = False) -> int:
    """Run Redis (reused or embedded), workers, trainer and web (and Flower if asked) until a
    signal; return the exit code.

    0 after a requested stop (SIGINT/SIGTERM), 1 if something crash-looped or start-up failed.
    Must run on the main thread: it handles signals and forks children.
    """
    _ensure_logging()
    if workers < 0:
        log.error("--workers must be >= 0, got %s", workers)
        return 2
    received: list[int] = []
    previous = _install_signals(received)
    redis_server: RedisServer | None = None
    settings = get_settings()
    flower_port = settings.flower_port if flower else None
    children = _plan(port, workers, host, flower_port, settings.worker_metrics_port,
                     settings.admin_token)
    pump = OutputPump(max(len(c.name) for c in children))
    code = 0
    try:
        redis_server, redis_url = start_redis()
        if not received:
            env = _child_env(redis_url)
            spawn_all(children, env, pump)
            _announce_monitoring(children, host, port, flower_port)
            health_url = f"http://{_display_host(host)}:{port}/healthz"
            code = supervise(children, env, pump, redis_server, received, health_url,
                             2 * workers)  # a live and a batch worker per slot
        if received:
            log.info("received %s; shutting down", signal.Signals(received[0]).name)
    except Exception:
        log.exception("digitflow up failed")
        code = 1
    finally:
        try:
            _shutdown(children)  # a second Ctrl-C only appends to `received`: no abort
            pump.drain()
        finally:
            if redis_server is not None:
                redis_server.stop()
                log.info("embedded Redis stopped")
            for sig, handler in previous.items():
                with contextlib.suppress(ValueError, TypeError):
                    signal.signal(sig, handler)  # type: ignore[arg-type]
    return code
