"""Shared fixtures: the MNIST folder, a real redis-server, and a whole running stack."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from cli.embedded_redis import RedisServer
from devtools.stack import Stack, start_stack

MNIST_DIR = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "mnist"


@pytest.fixture(scope="session")
def mnist_dir() -> Path:
    """The real MNIST files beside the repo; tests that need them skip, saying why, without."""
    if not (MNIST_DIR / "t10k-images-idx3-ubyte.gz").exists():
        pytest.skip(f"MNIST not found at {MNIST_DIR} (the CI layout puts it there)")
    return MNIST_DIR


@pytest.fixture(scope="session")
def redis_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RedisServer]:
    """A real redis-server on a free loopback port for the whole session."""
    server = RedisServer(data_dir=tmp_path_factory.mktemp("redis")).start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def stack(redis_server: RedisServer, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    """Web server + one Celery inference worker with the real bundled model."""
    running = start_stack(redis_server.url, tmp_path_factory.mktemp("stack"), workers=1)
    try:
        running.wait_ready(workers=1)
        yield running
    finally:
        running.close()
