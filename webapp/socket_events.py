"""The Socket.IO server of one app and its event handlers, both set up by `create_app`.

Under `digitflow web` the process is patched for gevent (webapp/server.py), and Socket.IO
runs in gevent mode: a connection costs a greenlet, not a thread. Each client address may
hold `max_connections_per_address` connections; one more is refused with a clear message.
An admin's connection may set a shadow version for its own frames (webapp/shadow.py).
"""

from __future__ import annotations

import logging
import re
from typing import Any

from flask import Flask, request
from flask_socketio import SocketIO, emit, join_room
from socketio.exceptions import ConnectionRefusedError as ConnectionRefused

from shared.fields import unknown_fields_error
from shared.model_store import ModelStore
from shared.preprocess import InvalidInput
from shared.settings import Settings
from webapp.auth import token_matches
from webapp.connection_cap import ConnectionCap
from webapp.limits import connection_allowed, socket_allowed
from webapp.live import LiveFrames
from webapp.message_queue import AnswerAwareRedisManager
from webapp.metrics import CONNECTIONS
from webapp.shadow import ShadowSessions, auth_token, shadow_request
from webapp.socket_json import UNREADABLE_EVENT, TolerantPacket

log = logging.getLogger(__name__)
# mode and strokes: shared/number_wire.py; explain: shared/saliency.py. Not `shadow`: a
# frame's shadow version comes from its admin session (webapp/shadow.py), never from the frame.
DRAW_FIELDS = {"pixels", "image", "seq", "mode", "strokes", "explain"}
ROOM_ID = re.compile(r"[0-9a-f]{32}")  # batch and job ids are uuid4().hex
MAX_SEQ = 2**53 - 1  # JavaScript's largest safe integer; beyond it a seq is not a counter


def bind_socketio(app: Flask, socketio: SocketIO, settings: Settings, live: LiveFrames,
                  message_queue: str | None) -> None:
    """Bind Socket.IO to `app`, relaying worker answers through Redis when a queue is given."""
    queue: dict[str, Any] = {}
    if message_queue:
        queue = {"message_queue": message_queue,
                 "client_manager": AnswerAwareRedisManager(message_queue, live.answered)}
    socketio.init_app(app, async_mode=async_mode(),
                      max_http_buffer_size=settings.max_request_bytes,
                      cors_allowed_origins=None, serializer=TolerantPacket, **queue)


def async_mode() -> str:
    """gevent when `digitflow web` patched the process for it, else threads (in-process tests)."""
    try:
        from gevent import monkey
    except ImportError:
        return "threading"
    return "gevent" if monkey.is_module_patched("socket") else "threading"


def register_handlers(socketio: SocketIO, live: LiveFrames, store: ModelStore,
                      settings: Settings, cap: ConnectionCap,
                      shadows: ShadowSessions | None = None) -> None:
    """Attach the handlers. Every message gets an answer: any argument count, an unknown
    event, an unreadable packet (webapp/socket_json.py) or a failing handler."""
    shadows = shadows if shadows is not None else live.shadows

    def on_connect(auth: Any = None) -> None:
        if not socket_allowed("connect", settings.rate_limit_socket_connect):
            raise ConnectionRefused("too many connections from your address; retry in a minute")
        addr = request.remote_addr or "?"
        if not cap.admit(request.sid, addr):  # type: ignore[attr-defined]
            log.info("refused a connection from %s: %d already open", addr, cap.limit)
            raise ConnectionRefused(
                f"too many connections from your address: at most {cap.limit} at once")
        token = auth_token(auth)
        if token is not None and token_matches(token.strip(), settings.admin_token):
            shadows.admit(request.sid)  # type: ignore[attr-defined]
        emit("hello", {"model_version": store.active()})
        CONNECTIONS.inc()  # after the last step that can refuse: disconnect will come

    def on_draw(*args: Any) -> None:
        data = args[0] if len(args) == 1 else None
        seq = data.get("seq") if isinstance(data, dict) else None
        if not isinstance(seq, int) or isinstance(seq, bool) or not -MAX_SEQ <= seq <= MAX_SEQ:
            emit("error", {"seq": None, "error": "draw needs one JSON object with an integer "
                                                 f"'seq' (at most {MAX_SEQ} in size)"})
            return
        if not connection_allowed("draw", settings.rate_limit_draw, request.sid):  # type: ignore[attr-defined]
            emit("error", {"seq": seq, "error": "too many frames: at most "
                                                f"{settings.rate_limit_draw} per connection"})
            return
        problem = unknown_fields_error(data, DRAW_FIELDS)
        if problem:
            emit("error", {"seq": seq, "error": problem})
            return
        live.offer(request.sid, data)  # type: ignore[attr-defined]

    def on_shadow(*args: Any) -> None:
        sid = request.sid  # type: ignore[attr-defined]
        try:
            version = shadow_request(shadows, sid, args, settings.admin_token, store.versions)
        except (InvalidInput, PermissionError) as exc:
            emit("error", {"seq": None, "error": str(exc)})
            return
        emit("shadow", {"version": version})

    def on_subscribe(*args: Any) -> None:
        data = args[0] if len(args) == 1 else None
        room = (data.get("batch_id") or data.get("job_id")) if isinstance(data, dict) else None
        if not isinstance(room, str) or not ROOM_ID.fullmatch(room):  # never another's sid
            emit("error", {"seq": None, "error": "subscribe needs one object with a 'batch_id' "
                                                 "or 'job_id' (32 hex digits)"})
            return
        join_room(room)

    def on_disconnect(*_: Any) -> None:
        live.forget(request.sid)  # type: ignore[attr-defined]
        shadows.forget(request.sid)  # type: ignore[attr-defined]
        cap.release(request.sid)  # type: ignore[attr-defined]
        CONNECTIONS.dec()

    def on_unreadable(*args: Any) -> None:
        reason = args[0] if args and isinstance(args[0], str) else "unreadable message"
        emit("error", {"seq": None, "error": f"could not read this message: {reason}"})

    def on_unknown(event: Any, *_: Any) -> None:
        emit("error", {"seq": None, "error": f"unknown event {str(event)[:40]!r}: "
                                             "send 'draw', 'subscribe' or 'shadow'"})

    def on_handler_error(exc: Exception) -> None:
        log.error("socket handler failed", exc_info=exc)
        emit("error", {"seq": None, "error": "the server could not handle this message"})

    socketio.on_event("connect", on_connect)
    socketio.on_event("draw", on_draw)
    socketio.on_event("subscribe", on_subscribe)
    socketio.on_event("shadow", on_shadow)
    socketio.on_event("disconnect", on_disconnect)
    socketio.on_event(UNREADABLE_EVENT, on_unreadable)
    socketio.on_event("*", on_unknown)
    socketio.on_error_default(on_handler_error)
