"""Fixtures: the app in-process (`app`, `client`, `socketio_client`) and, for the browser
tests, one Chromium per module and a list for page errors."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import fakeredis
import pytest
from flask import Flask
from flask.testing import FlaskClient
from flask_socketio.test_client import SocketIOTestClient

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
