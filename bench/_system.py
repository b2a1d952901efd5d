"""Start (or reuse) a digitflow system for a benchmark: embedded Redis, workers, web server."""

from __future__ import annotations

import contextlib
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from cli.embedded_redis import RedisServer  # noqa: E402
from tests.utils.stack import Stack, start_stack  # noqa: E402


@contextlib.contextmanager
def running_system(workers: int = 1, keep_logs: str | None = None,
                   **env: str) -> Iterator[Stack]:
    """A private, throwaway system on free ports, torn down on exit."""
    tmp = Path(keep_logs or tempfile.mkdtemp(prefix="digitflow-bench-"))
    redis = RedisServer(data_dir=tmp / "redis").start()
    stack = start_stack(redis.url, tmp, workers=workers, **env)
    try:
        stack.wait_ready(workers=workers)
        yield stack
    finally:
        stack.close()
        redis.stop()
