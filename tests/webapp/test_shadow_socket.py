"""The `shadow` socket event in-process: who may set one, what is refused, and how the
session's frames then carry the shadow version to the queue."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from flask import Flask
from flask_socketio.test_client import SocketIOTestClient

from shared.celery_app import CLASSIFY_FRAME_TASK
from shared.model_store import BUNDLED_DIR, MODEL_FILE
from tests.utils.recording_sender import RecordingSender
from tests.webapp.conftest import ADMIN_TOKEN

PIXELS = np.pad(np.full((12, 2), 255, np.uint8), ((2, 2), (7, 7))).tolist()


def received(client: SocketIOTestClient, event: str) -> list[Any]:
    return [msg["args"][0] for msg in client.get_received() if msg["name"] == event]


@pytest.fixture
def published(app: Flask) -> list[int]:
    """Two published versions in the app's store."""
    store = app.extensions["digitflow"].store
    return [store.publish(BUNDLED_DIR / MODEL_FILE, {"test_accuracy": 0.99}) for _ in range(2)]


@pytest.fixture
def admin(app: Flask) -> SocketIOTestClient:
    """A connection that proved the admin token at connect (`auth`)."""
    client = app.extensions["socketio"].test_client(app, auth={"token": ADMIN_TOKEN})
    client.get_received()
    return client


def test_an_admin_sets_a_shadow_and_its_frames_carry_it(
        admin: SocketIOTestClient, published: list[int], sender: RecordingSender) -> None:
    admin.emit("shadow", {"version": published[1]})
    assert received(admin, "shadow") == [{"version": published[1]}]
    admin.emit("draw", {"pixels": PIXELS, "seq": 1})
    [task] = sender.named(CLASSIFY_FRAME_TASK)
    assert task.args[2]["shadow"] == published[1]


def test_clearing_the_shadow_stops_the_mark(
        admin: SocketIOTestClient, published: list[int], sender: RecordingSender) -> None:
    admin.emit("shadow", {"version": published[0]})
    admin.emit("shadow", {"version": None})
    assert received(admin, "shadow") == [{"version": published[0]}, {"version": None}]
    admin.emit("draw", {"pixels": PIXELS, "seq": 1})
    [task] = sender.named(CLASSIFY_FRAME_TASK)
    assert "shadow" not in task.args[2]


def test_the_token_may_come_in_the_shadow_event(
        socketio_client: SocketIOTestClient, published: list[int],
        sender: RecordingSender) -> None:
    socketio_client.get_received()
    socketio_client.emit("shadow", {"version": published[0], "token": ADMIN_TOKEN})
    assert received(socketio_client, "shadow") == [{"version": published[0]}]


def test_other_sessions_frames_are_not_shadowed(
        app: Flask, admin: SocketIOTestClient, socketio_client: SocketIOTestClient,
        published: list[int], sender: RecordingSender) -> None:
    admin.emit("shadow", {"version": published[0]})
    socketio_client.emit("draw", {"pixels": PIXELS, "seq": 5})
    [task] = sender.named(CLASSIFY_FRAME_TASK)
    assert "shadow" not in task.args[2]


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        ((), "one JSON object"),
        (("2",), "one JSON object"),
        (({"versoin": 2},), "one JSON object"),
        (({"version": 2, "colour": 1},), "unknown field"),
        (({"version": "2"},), "'version' must be"),
        (({"version": True},), "'version' must be"),
        (({"version": 2.0},), "'version' must be"),
        (({"version": 0},), "'version' must be"),
        (({"version": 99},), "no published model version 99"),
        (({"version": 1, "token": 5},), "'token' must be a string"),
        (({"version": 1}, {"version": 2}), "one JSON object"),
    ],
)
def test_bad_shadow_events_get_an_error_and_change_nothing(
        admin: SocketIOTestClient, published: list[int], sender: RecordingSender,
        args: tuple[Any, ...], needle: str) -> None:
    admin.emit("shadow", *args)
    [error] = received(admin, "error")
    assert error["seq"] is None and needle in error["error"]
    admin.emit("draw", {"pixels": PIXELS, "seq": 1})
    assert "shadow" not in sender.named(CLASSIFY_FRAME_TASK)[0].args[2]


@pytest.mark.parametrize("token", [None, "wrong-token", ""])
def test_a_non_admin_is_refused(app: Flask, published: list[int], token: str | None) -> None:
    auth = {"token": token} if token is not None else None
    client = app.extensions["socketio"].test_client(app, auth=auth)
    client.get_received()
    event: dict[str, Any] = {"version": published[0]}
    if token is not None:
        event["token"] = token
    client.emit("shadow", event)
    [error] = received(client, "error")
    assert "shadow mode is for the admin" in error["error"]
    assert received(client, "shadow") == []


def test_a_draw_frame_may_not_carry_a_shadow_itself(
        socketio_client: SocketIOTestClient, published: list[int],
        sender: RecordingSender) -> None:
    socketio_client.get_received()
    socketio_client.emit("draw", {"pixels": PIXELS, "seq": 3, "shadow": published[0]})
    [error] = received(socketio_client, "error")
    assert error["seq"] == 3 and "unknown field" in error["error"]
    assert sender.sent == []


def test_number_mode_frames_are_refused_while_a_shadow_is_set(
        admin: SocketIOTestClient, published: list[int], sender: RecordingSender) -> None:
    admin.emit("shadow", {"version": published[0]})
    admin.get_received()
    admin.emit("draw", {"pixels": PIXELS, "seq": 4, "mode": "number"})
    [error] = received(admin, "error")
    assert error["seq"] == 4 and "shadow mode compares one digit" in error["error"]
    assert sender.named(CLASSIFY_FRAME_TASK) == []


def test_explain_rides_along_with_the_shadow(
        admin: SocketIOTestClient, published: list[int], sender: RecordingSender) -> None:
    admin.emit("shadow", {"version": published[0]})
    admin.emit("draw", {"pixels": PIXELS, "seq": 1, "explain": True})
    [task] = sender.named(CLASSIFY_FRAME_TASK)
    assert task.args[2]["explain"] is True and task.args[2]["shadow"] == published[0]


def test_the_unknown_event_error_names_shadow(socketio_client: SocketIOTestClient) -> None:
    socketio_client.get_received()
    socketio_client.emit("shadoww", {"version": 1})
    [error] = received(socketio_client, "error")
    assert "'shadow'" in error["error"]
