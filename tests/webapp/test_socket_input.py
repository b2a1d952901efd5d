"""Socket.IO in-process: every message gets an answer (argument counts, seq bounds, rooms,
unknown events, packets that cannot be read), and frame quotas."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import fakeredis
import pytest
from flask import Flask
from flask_socketio.test_client import SocketIOTestClient

from shared.model_store import ModelStore
from tests.utils.recording_sender import RecordingSender
from webapp import create_app
from webapp.services import Services

BLANK = [[0] * 10 for _ in range(10)]


def errors(client: SocketIOTestClient) -> list[dict[str, Any]]:
    return [m["args"][0] for m in client.get_received() if m["name"] == "error"]


def send_raw(app: Flask, client: SocketIOTestClient, encoded: str) -> None:
    """A packet written by hand, as a non-library client could send it."""
    app.extensions["socketio"].server._handle_eio_message(client.eio_sid, encoded)


@pytest.mark.parametrize(
    ("event", "args", "needle"),
    [
        ("draw", (), "one json object"),
        ("draw", ({"pixels": BLANK, "seq": 1}, 2), "one json object"),
        ("draw", ({"pixels": BLANK, "seq": 1}, 2, 3), "one json object"),
        ("draw", ({"pixels": BLANK, "seq": 2**53},), "at most"),
        ("draw", ({"pixels": BLANK, "seq": -(2**53)},), "at most"),
        ("subscribe", (), "32 hex digits"),
        ("subscribe", ({"batch_id": "a" * 32}, 1), "32 hex digits"),
        ("subscribe", ({"batch_id": "not-hex"},), "32 hex digits"),
        ("nonsense", ({"a": 1},), "unknown event"),
        ("prediction", (), "unknown event"),
    ],
)
def test_every_event_gets_an_answer(socketio_client: SocketIOTestClient, sender: RecordingSender,
                                    event: str, args: tuple, needle: str) -> None:
    socketio_client.get_received()
    socketio_client.emit(event, *args)
    got = errors(socketio_client)
    assert len(got) == 1 and needle in got[0]["error"].lower(), got
    assert not sender.sent


def test_subscribing_to_another_clients_sid_is_refused(app: Flask) -> None:
    a = app.extensions["socketio"].test_client(app)
    b = app.extensions["socketio"].test_client(app)
    a_sid = app.extensions["socketio"].server.manager.sid_from_eio_sid(a.eio_sid, "/")
    b.get_received()
    b.emit("subscribe", {"job_id": a_sid})  # its room would receive a's predictions
    got = errors(b)
    assert len(got) == 1 and "32 hex digits" in got[0]["error"], got


@pytest.mark.parametrize(
    ("encoded", "needle"),
    [
        ('2["draw",' + "[" * 5000 + "]" * 5000 + "]", "nested"),
        ('2["draw",{"seq":' + "9" * 4301 + ',"pixels":[]}]', "not valid json"),
        ('2["draw",{"seq":1,"seq":2}]', "duplicate"),
        ("2[", "not valid json"),
        ("x", "not a socket.io packet"),
        ("9", "packet type"),
        ("2", "starts with its name"),
    ],
)
def test_packets_that_cannot_be_read_get_an_error_event(
        app: Flask, socketio_client: SocketIOTestClient, encoded: str, needle: str) -> None:
    socketio_client.get_received()
    send_raw(app, socketio_client, encoded)
    got = errors(socketio_client)
    assert len(got) == 1 and needle in got[0]["error"].lower(), got
    assert got[0]["seq"] is None


def test_a_failing_handler_still_answers(app: Flask, socketio_client: SocketIOTestClient,
                                         monkeypatch: pytest.MonkeyPatch) -> None:
    """An unexpected bug in a handler: an error event without internals, not silence."""
    live = app.extensions["socketio"].server.handlers["/"]["draw"]
    assert live  # the handler exists; break what it calls next
    monkeypatch.setattr("webapp.socket_events.unknown_fields_error",
                        lambda *_: (_ for _ in ()).throw(RuntimeError("/secret/path")))
    socketio_client.get_received()
    socketio_client.emit("draw", {"pixels": BLANK, "seq": 1})
    got = errors(socketio_client)
    assert got == [{"seq": None, "error": "the server could not handle this message"}]


def test_frames_and_connects_are_rate_limited(tmp_path: Path) -> None:
    settings = {"model_store": str(tmp_path / "models"), "rate_limit_draw": "2/second",
                "rate_limit_socket_connect": "2/minute"}
    services = Services(redis=fakeredis.FakeRedis(), send_task=RecordingSender(),
                        store=ModelStore(settings["model_store"]),
                        announce_activation=lambda v: None, message_queue=None)
    app = create_app(settings, services)
    sio = app.extensions["socketio"]
    client = sio.test_client(app)
    for seq in (1, 2, 3):
        client.emit("draw", {"pixels": [[0] * 3] * 3, "seq": seq})
    assert any("too many frames" in e["error"] for e in errors(client))
    assert sio.test_client(app).is_connected()
    assert not sio.test_client(app).is_connected()  # the third connect this minute
