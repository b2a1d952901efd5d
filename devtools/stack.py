"""Start real digitflow processes (Redis, Celery workers, one or more web servers, optionally
nginx in front of them) for tests and benchmarks."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import requests

from cli.embedded_redis import RedisServer, free_port
from devtools.nginx import Nginx

REPO = Path(__file__).resolve().parents[1]
# Every test and benchmark client comes from 127.0.0.1: quotas stay on (the code path runs)
# but out of reach; tests/webapp/test_limits.py sets tight ones to test them.
GENEROUS_LIMITS = {
    "RATE_LIMIT_PREDICT": "100000/minute", "RATE_LIMIT_FEEDBACK": "100000/minute",
    "RATE_LIMIT_BATCHES": "100000/minute", "RATE_LIMIT_BATCH_MIB": "1000000/hour",
    "RATE_LIMIT_ADMIN": "100000/minute", "RATE_LIMIT_SOCKET_CONNECT": "100000/minute",
    "RATE_LIMIT_DRAW": "100000/second",
}


def start_role(role: str, env: dict[str, str], log_dir: Path, *args: str) -> subprocess.Popen:
    """Run `digitflow <role> ...` as a child process with its output in a log file."""
    log_dir.mkdir(parents=True, exist_ok=True)
    name = "-".join([role, *[a.strip("-").replace("@", "_") for a in args]])[:60]
    out = open(log_dir / f"{name}.log", "ab")
    return subprocess.Popen(
        [sys.executable, "-m", "cli.main", role, *args],
        cwd=REPO, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True,
    )


def stop(proc: subprocess.Popen, sig: int = signal.SIGTERM, timeout: float = 15.0) -> None:
    """Stop a child and its process group; SIGKILL if it does not go in time."""
    if proc.poll() is not None:
        return
    try:
        os.killpg(proc.pid, sig)
        proc.wait(timeout)
    except (subprocess.TimeoutExpired, ProcessLookupError):
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        proc.wait(5)


@dataclass
class Stack:
    """A running system: its URL (nginx's when behind nginx), Redis URL, env shared by every
    child, and the processes, so tests can kill or restart any of them."""

    url: str
    redis_url: str
    env: dict[str, str]
    log_dir: Path
    store: str
    webs: list[subprocess.Popen] = field(default_factory=list)
    web_urls: list[str] = field(default_factory=list)
    workers: list[subprocess.Popen] = field(default_factory=list)
    others: list[subprocess.Popen] = field(default_factory=list)
    nginx: Nginx | None = None

    @property
    def web(self) -> subprocess.Popen | None:
        """The first web process (the only one unless `webs` > 1)."""
        return self.webs[0] if self.webs else None

    @web.setter
    def web(self, proc: subprocess.Popen) -> None:
        if self.webs:
            self.webs[0] = proc
        else:
            self.webs.append(proc)

    def start_web(self, port: int | None = None) -> subprocess.Popen:
        """Start one more web process (or one again on `port`); its URL joins `web_urls`."""
        port = port or free_port()
        proc = start_role("web", self.env, self.log_dir, "--port", str(port))
        url = f"http://127.0.0.1:{port}"
        if url in self.web_urls:
            self.webs[self.web_urls.index(url)] = proc
        else:
            self.webs.append(proc)
            self.web_urls.append(url)
        return proc

    def web_port(self, i: int) -> int:
        return int(self.web_urls[i].rsplit(":", 1)[1])

    def start_worker(self, name: str, concurrency: int = 8,
                     queues: str = "live,batch") -> subprocess.Popen:
        """A worker on `queues`; a batch-only one runs niced, as `digitflow up` starts it."""
        proc = start_role("worker", self.env, self.log_dir, "--name", f"{name}@test",
                          "--concurrency", str(concurrency), "--queues", queues)
        self.workers.append(proc)
        return proc

    def start_trainer(self) -> subprocess.Popen:
        proc = start_role("trainer", self.env, self.log_dir, "--name", "trainer@test")
        self.others.append(proc)
        return proc

    def healthz(self, url: str | None = None) -> dict:
        return requests.get(f"{url or self.url}/healthz", timeout=5).json()

    def wait_ready(self, workers: int = 1, timeout: float = 180.0) -> dict:
        """Block until every web process (and nginx) answers and `workers` workers have a
        model loaded; returns the last /healthz."""
        deadline = time.monotonic() + timeout
        last: object = None
        pending = list(dict.fromkeys([*self.web_urls, self.url]))
        while time.monotonic() < deadline:
            for proc in [*self.webs, *self.workers]:
                if proc is not None and proc.poll() is not None:
                    raise RuntimeError(f"a child exited early ({proc.args}); see {self.log_dir}")
            try:
                while pending:
                    last = self.healthz(pending[0])
                    if last.get("workers", 0) < workers:
                        break
                    pending.pop(0)
                if not pending:
                    return last  # type: ignore[return-value]
            except requests.RequestException as exc:
                last = exc
            time.sleep(0.5)
        raise TimeoutError(f"stack not ready after {timeout}s: {last}; logs in {self.log_dir}")

    def close(self) -> None:
        """Stop every child: SIGTERM to all at once (each warm shutdown takes seconds), then
        wait for each, SIGKILL for a laggard."""
        procs = [p for p in [*self.workers, *self.others, *self.webs] if p is not None]
        for proc in procs:
            if proc.poll() is None:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(proc.pid, signal.SIGTERM)
        deadline = time.monotonic() + 15
        for proc in procs:
            try:
                proc.wait(max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                stop(proc, sig=signal.SIGKILL)
        if self.nginx is not None:
            self.nginx.stop()


def start_stack(redis_url: str, tmp: Path, workers: int = 1, webs: int = 1,
                nginx: bool = False, split: bool = False, **extra_env: str) -> Stack:
    """Start `webs` web servers (each on its own free port) and `workers` inference workers
    against `redis_url`; with `nginx`, a loopback nginx in front of the web servers too (then
    `url` is nginx's and the web servers trust its X-Forwarded-For). `split` starts each
    worker as `digitflow up` does: a live worker plus a niced batch worker."""
    ports = [free_port() for _ in range(webs)]
    env = {
        **os.environ,
        "REDIS_URL": redis_url,
        "MODEL_STORE": str(tmp / "models"),
        "MODEL_CACHE": str(tmp / "cache"),
        "ADMIN_TOKEN": "test-admin-token",
        "PORT": str(ports[0]),
        "PYTHONUNBUFFERED": "1",
        **GENEROUS_LIMITS,
        **({"TRUSTED_PROXIES": "1"} if nginx else {}),
        **extra_env,
    }
    stack = Stack(url=f"http://127.0.0.1:{ports[0]}", redis_url=redis_url, env=env,
                  log_dir=tmp / "logs", store=env["MODEL_STORE"])
    try:
        for port in ports:
            stack.start_web(port)
        if nginx:
            stack.nginx = Nginx(ports, run_dir=tmp / "nginx").start()
            stack.url = stack.nginx.url
        for i in range(workers):
            if split:
                stack.start_worker(f"w{i + 1}", queues="live")
                stack.start_worker(f"b{i + 1}", queues="batch")
            else:
                stack.start_worker(f"w{i + 1}")
    except BaseException:
        stack.close()
        raise
    return stack


@contextlib.contextmanager
def running_system(workers: int = 1, keep_logs: str | None = None, webs: int = 1,
                   nginx: bool = False, split: bool = False, **env: str) -> Iterator[Stack]:
    """A private, throwaway system on free ports (embedded Redis), torn down on exit."""
    tmp = Path(keep_logs or tempfile.mkdtemp(prefix="digitflow-bench-"))
    redis = RedisServer(data_dir=tmp / "redis").start()
    try:
        stack = start_stack(redis.url, tmp, workers=workers, webs=webs, nginx=nginx,
                            split=split, **env)
        try:
            stack.wait_ready(workers=len(stack.workers))
            yield stack
        finally:
            stack.close()
    finally:
        redis.stop()


@contextlib.contextmanager
def training_stack(redis_url: str, tmp: Path, **env: str) -> Iterator[Stack]:
    """One worker, the trainer and the web server on `redis_url`, ready, torn down on exit."""
    stack = start_stack(redis_url, tmp, workers=1, **env)
    stack.start_trainer()
    try:
        stack.wait_ready(workers=1)
        yield stack
    finally:
        stack.close()
