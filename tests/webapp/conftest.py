"""Fixtures: the app in-process (`app`, `client`, `socketio_client`) and, for the browser
tests, one Chromium per module and a list for page errors."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import fakeredis
import pytest
from flask import Flask
from flask.testing import FlaskClient
from flask_socketio.test_client import SocketIOTestClient

from cli.embedded_redis import RedisServer
from devtools.stack import Stack, start_stack
from shared.model_store import ModelStore
from tests.utils.browser import CHROMIUM, CHROMIUM_ARGS
from tests.utils.recording_sender import RecordingSender
from webapp import create_app
from webapp.services import Services


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    from playwright import sync_api

    if not os.access(CHROMIUM, os.X_OK):
        pytest.fail(f"{CHROMIUM} not found: install it with `apt-get install -y chromium`")
    with sync_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield b
        finally:
            b.close()


@pytest.fixture
def page_errors() -> list[str]:
    return []


# ---------------------------------------------------------------- the app in-process (flaskr)
ADMIN_TOKEN = "test-admin-token"
AUTH = {"Authorization": f"Bearer {ADMIN_TOKEN}"}


@pytest.fixture
def sender() -> RecordingSender:
    """Records the tasks the app queues (no worker behind it)."""
    return RecordingSender()


@pytest.fixture
def announced() -> list[int]:
    """Versions the app announced as active."""
    return []


@pytest.fixture
def app(tmp_path: Path, sender: RecordingSender, announced: list[int]) -> Flask:
    """`create_app(config)` on fakeredis, a recording task sender and a throwaway store."""
    settings = {"admin_token": ADMIN_TOKEN, "model_store": str(tmp_path / "models"),
                "predict_timeout_s": 0.05, "max_request_bytes": 64 * 1024,
                "max_batch_items": 5, "feedback_cap": 3}
    services = Services(redis=fakeredis.FakeRedis(), send_task=sender,
                        store=ModelStore(settings["model_store"]),
                        announce_activation=announced.append, message_queue=None)
    return create_app(settings, services)


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def socketio_client(app: Flask) -> Iterator[SocketIOTestClient]:
    """Flask-SocketIO's in-process test client, connected."""
    sio_client = app.extensions["socketio"].test_client(app)
    yield sio_client
    if sio_client.is_connected():
        sio_client.disconnect()


# ---------------------------------------------------------------- shadow mode (issue 12)
@dataclass
class ShadowSystem:
    """A running system whose store holds the bundled model (v1, active) and `shifted`, a
    real version that answers d+1 where v1 answers d (tests/utils/shifted_model.py)."""

    stack: Stack
    active: int
    shifted: int


@pytest.fixture(scope="session")
def shadow_system(redis_server: RedisServer, tmp_path_factory: pytest.TempPathFactory
                  ) -> Iterator[ShadowSystem]:
    """Web + one worker on their own Redis database (feedback there is the tests' own)."""
    from shared.model_store import BUNDLED_DIR, META_FILE
    from tests.utils.shifted_model import shifted_model_file

    tmp = tmp_path_factory.mktemp("shadow")
    stack = start_stack(redis_server.url.rsplit("/", 1)[0] + "/12", tmp, workers=1)
    try:
        stack.wait_ready(workers=1)
        store = ModelStore(stack.store)
        meta = {**json.loads((BUNDLED_DIR / META_FILE).read_text()), "source": "shifted"}
        meta.pop("version", None)
        shifted = store.publish(shifted_model_file(tmp), meta)
        yield ShadowSystem(stack, store.active() or 1, shifted)
    finally:
        stack.close()
