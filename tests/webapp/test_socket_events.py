"""Socket.IO in-process: `draw` validation, `error` events, frames queued by task name."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from flask import Flask
from flask_socketio.test_client import SocketIOTestClient

from shared.celery_app import CLASSIFY_FRAME_TASK
from shared.wire import unpack
from tests.utils.images import data_url, encode
from tests.utils.recording_sender import RecordingSender


def received(client: SocketIOTestClient, event: str) -> list[Any]:
    """The payloads of `event` received since the last call."""
    return [msg["args"][0] for msg in client.get_received() if msg["name"] == event]


def test_connect_says_hello_with_the_model_version(socketio_client: SocketIOTestClient) -> None:
    assert received(socketio_client, "hello") == [{"model_version": None}]


@pytest.mark.parametrize(
    ("frame", "seq", "needle"),
    [
        ({"pixels": [[0] * 10] * 10}, None, "integer 'seq'"),
        ({"pixels": [[0] * 10] * 10, "seq": True}, None, "integer 'seq'"),
        ("not an object", None, "integer 'seq'"),
        ({"pixels": [[0] * 10] * 10, "seq": 8, "colour": "red"}, 8, "unknown field"),
        ({"pixels": [[1, 2]], "seq": 9}, 9, "between 8x8"),
        ({"image": "data:image/png;base64,AAAA", "seq": 10}, 10, "corrupt"),
    ],
)
def test_bad_frames_get_an_error_event_and_queue_nothing(
    socketio_client: SocketIOTestClient, sender: RecordingSender, frame: Any, seq: int | None,
    needle: str,
) -> None:
    socketio_client.get_received()
    socketio_client.emit("draw", frame)
    [error] = received(socketio_client, "error")
    assert error["seq"] == seq and needle in error["error"]
    assert sender.sent == []


def test_a_frame_is_queued_for_its_client(app: Flask, socketio_client: SocketIOTestClient,
                                          sender: RecordingSender) -> None:
    pixels = np.zeros((16, 16), np.uint8)
    pixels[2:14, 7:9] = 255
    socketio_client.emit("draw", {"pixels": pixels.tolist(), "seq": 1})
    [task] = sender.named(CLASSIFY_FRAME_TASK)
    _sid, seq, item = task.args
    assert seq == 1 and np.array_equal(unpack(item), pixels.astype(np.float32))
    # a live frame carries an expiry: redelivered after a crash, it is dropped, not late
    assert task.options == {"ignore_result": True, "expires": 10.0}


def test_an_image_frame_is_queued_as_it_came_after_a_header_check(
        socketio_client: SocketIOTestClient, sender: RecordingSender) -> None:
    """The web reads only the header; the worker decodes the image, once."""
    url = data_url(encode(np.zeros((112, 112), np.uint8)))
    socketio_client.emit("draw", {"image": url, "seq": 1})
    [task] = sender.named(CLASSIFY_FRAME_TASK)
    assert task.args[2] == {"image": url}


def test_an_address_holds_at_most_the_configured_connections(app: Flask) -> None:
    limit = app.config["SETTINGS"].max_connections_per_address
    socketio = app.extensions["socketio"]
    clients = [socketio.test_client(app) for _ in range(limit + 1)]
    try:
        assert [c.is_connected() for c in clients] == [True] * limit + [False]
        clients[0].disconnect()
        again = socketio.test_client(app)
        assert again.is_connected()  # the freed place can be taken
        clients.append(again)
    finally:
        for c in clients:
            if c.is_connected():
                c.disconnect()


def test_frames_wait_while_one_is_in_flight(socketio_client: SocketIOTestClient,
                                            sender: RecordingSender) -> None:
    """With no answer yet, newer frames wait at the gate instead of going on the queue."""
    for seq in range(1, 5):
        socketio_client.emit("draw", {"pixels": [[0] * 8] * 8, "seq": seq})
    assert [t.args[1] for t in sender.named(CLASSIFY_FRAME_TASK)] == [1]


def test_subscribe_needs_an_id(socketio_client: SocketIOTestClient) -> None:
    socketio_client.get_received()
    socketio_client.emit("subscribe", {"room": "x"})
    assert "batch_id" in received(socketio_client, "error")[0]["error"]
