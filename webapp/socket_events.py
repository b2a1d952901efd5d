"""The Socket.IO server of one app and its event handlers, both set up by `create_app`.

Under `digitflow web` the process is patched for gevent (webapp/server.py), and Socket.IO
runs in gevent mode: a connection costs a greenlet, not a thread. Each client address may
hold `max_connections_per_address` connections; one more is refused with a clear message.
"""

from __future__ import annotations

import logging
from typing import Any

from flask import Flask, request
from flask_socketio import ConnectionRefusedError, SocketIO, emit, join_room

from shared.fields import unknown_fields_error
from shared.model_store import ModelStore
from shared.settings import Settings
from webapp.connection_cap import ConnectionCap
from webapp.live import LiveFrames
from webapp.message_queue import AnswerAwareRedisManager

log = logging.getLogger(__name__)
DRAW_FIELDS = {"pixels", "image", "seq"}


def bind_socketio(app: Flask, socketio: SocketIO, settings: Settings, live: LiveFrames,
                  message_queue: str | None) -> None:
    """Bind Socket.IO to `app`, relaying worker answers through Redis when a queue is given."""
    queue: dict[str, Any] = {}
    if message_queue:
        queue = {"message_queue": message_queue,
                 "client_manager": AnswerAwareRedisManager(message_queue, live.gate.answered)}
    socketio.init_app(app, async_mode=async_mode(),
                      max_http_buffer_size=settings.max_request_bytes,
                      cors_allowed_origins=None, **queue)


def async_mode() -> str:
    """gevent when `digitflow web` patched the process for it, else threads (in-process tests)."""
    try:
        from gevent import monkey
    except ImportError:
        return "threading"
    return "gevent" if monkey.is_module_patched("socket") else "threading"


def register_handlers(socketio: SocketIO, live: LiveFrames, store: ModelStore,
                      cap: ConnectionCap) -> None:
    """Attach the `connect`, `draw`, `subscribe` and `disconnect` handlers."""

    def on_connect(auth: Any = None) -> None:
        addr = request.remote_addr or "?"
        if not cap.admit(request.sid, addr):  # type: ignore[attr-defined]
            log.info("refused a connection from %s: %d already open", addr, cap.limit)
            raise ConnectionRefusedError(
                f"too many connections from your address: at most {cap.limit} at once")
        emit("hello", {"model_version": store.active()})

    def on_draw(data: Any) -> None:
        seq = data.get("seq") if isinstance(data, dict) else None
        if not isinstance(seq, int) or isinstance(seq, bool):
            emit("error", {"seq": None, "error": "draw needs a JSON object with an integer 'seq'"})
            return
        problem = unknown_fields_error(data, DRAW_FIELDS)
        if problem:
            emit("error", {"seq": seq, "error": problem})
            return
        live.offer(request.sid, data)  # type: ignore[attr-defined]

    def on_subscribe(data: Any) -> None:
        room = (data.get("batch_id") or data.get("job_id")) if isinstance(data, dict) else None
        if not isinstance(room, str) or not room:
            emit("error", {"seq": None, "error": "subscribe needs a 'batch_id' or 'job_id'"})
            return
        join_room(room)

    def on_disconnect(*_: Any) -> None:
        live.forget(request.sid)  # type: ignore[attr-defined]
        cap.release(request.sid)  # type: ignore[attr-defined]

    socketio.on_event("connect", on_connect)
    socketio.on_event("draw", on_draw)
    socketio.on_event("subscribe", on_subscribe)
    socketio.on_event("disconnect", on_disconnect)
