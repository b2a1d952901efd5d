"""Socket.IO: live `draw` frames go onto the queue; answers come back to that client only.

Frames pass a per-client gate (one in flight, the newest waiting), are validated, and are
sent as Celery tasks by name. Workers emit answers to the client's sid room through the
Redis message queue. The newest seq of each client is also kept in Redis, so a worker can
skip a frame that a newer one replaced (e.g. with several web processes).
"""

from __future__ import annotations

import logging
import re
import time
from typing import Any

import redis
from celery import Celery
from flask import request
from flask_socketio import emit, join_room
from socketio.exceptions import ConnectionRefusedError as ConnectionRefused

from shared.preprocess import InvalidInput, decode_payload
from shared.redis_keys import COALESCED_COUNTER, latest_seq
from shared.wire import pack
from webapp.extensions import live_frames, settings, socketio, store
from webapp.frame_gate import FrameGate
from webapp.limits import socket_allowed
from webapp.socket_json import UNREADABLE_EVENT

log = logging.getLogger(__name__)
SEQ_TTL_S = 3600
ROOM_ID = re.compile(r"[0-9a-f]{32}")  # batch and job ids are uuid4().hex
MAX_SEQ = 2**53 - 1  # JavaScript's largest safe integer; beyond it a seq is not a counter


class LiveFrames:
    """Validates and queues the frames the gate lets through."""

    def __init__(self, redis_client: redis.Redis, celery: Celery) -> None:
        self.redis = redis_client
        self.celery = celery
        self.gate = FrameGate(self._dispatch)

    def _dispatch(self, sid: str, frame: dict[str, Any]) -> None:
        seq = frame["seq"]
        item = {k: v for k, v in frame.items() if k != "seq"}
        try:
            ink = decode_payload(item)
        except InvalidInput as exc:
            log.info("rejected draw seq=%s from %s: %s", seq, sid, exc)
            socketio.emit("error", {"seq": seq, "error": str(exc)}, to=sid)
            self.gate.answered(sid)
            return
        pipe = self.redis.pipeline(transaction=False)
        pipe.set(latest_seq(sid), seq, ex=SEQ_TTL_S)
        coalesced = self.gate.take_coalesced()
        if coalesced:
            pipe.incrby(COALESCED_COUNTER, coalesced)
        pipe.execute()
        # ignore_result: the answer travels by Socket.IO, so don't subscribe to a result
        self.celery.send_task("worker.tasks.classify_frame",
                              args=[sid, seq, pack(item, ink), time.time()], ignore_result=True)


def _on_connect(auth: Any = None) -> None:
    if not socket_allowed("connect", settings().rate_limit_socket_connect):
        raise ConnectionRefused("too many connections from your address; retry in a minute")
    emit("hello", {"model_version": store().active()})


def _on_draw(*args: Any) -> None:
    data = args[0] if len(args) == 1 else None  # any argument count gets an answer
    seq = data.get("seq") if isinstance(data, dict) else None
    if not isinstance(seq, int) or isinstance(seq, bool) or not -MAX_SEQ <= seq <= MAX_SEQ:
        emit("error", {"seq": None, "error": "draw needs one JSON object with an integer "
                                             f"'seq' (at most {MAX_SEQ} in size)"})
        return
    if not socket_allowed("draw", settings().rate_limit_draw, who=request.sid):
        emit("error", {"seq": seq, "error": "too many frames: at most "
                                            f"{settings().rate_limit_draw} per connection"})
        return
    unknown = set(data) - {"pixels", "image", "seq"}
    if unknown:
        emit("error", {"seq": seq, "error": f"unknown field(s): {', '.join(sorted(unknown))}"})
        return
    live_frames().gate.offer(request.sid, data)


def _on_subscribe(*args: Any) -> None:
    room = None
    if len(args) == 1 and isinstance(args[0], dict):
        room = args[0].get("batch_id") or args[0].get("job_id")
    if not isinstance(room, str) or not ROOM_ID.fullmatch(room):  # never another client's sid
        emit("error", {"seq": None, "error": "subscribe needs one object with a 'batch_id' "
                                             "or 'job_id' (32 hex digits)"})
        return
    join_room(room)


def _on_unreadable(*args: Any) -> None:
    """A packet the strict decoder refused (see webapp/socket_json.py)."""
    reason = args[0] if args and isinstance(args[0], str) else "unreadable message"
    emit("error", {"seq": None, "error": f"could not read this message: {reason}"})


def _on_unknown(event: Any, *_: Any) -> None:
    emit("error", {"seq": None, "error": f"unknown event {str(event)[:40]!r}: "
                                         "send 'draw' or 'subscribe'"})


def _on_handler_error(exc: Exception) -> None:
    """Any unexpected failure in a handler still gets an answer, without internals."""
    log.exception("socket handler failed", exc_info=exc)
    emit("error", {"seq": None, "error": "the server could not handle this message"})


def _on_disconnect(*_: Any) -> None:
    live_frames().gate.forget(request.sid)
    live_frames().redis.delete(latest_seq(request.sid))


def register_handlers() -> None:
    """Attach the handlers once per process."""
    if getattr(socketio, "_digitflow_handlers", False):
        return
    socketio.on_event("connect", _on_connect)
    socketio.on_event("draw", _on_draw)
    socketio.on_event("subscribe", _on_subscribe)
    socketio.on_event("disconnect", _on_disconnect)
    socketio.on_event(UNREADABLE_EVENT, _on_unreadable)
    socketio.on_event("*", _on_unknown)
    socketio.on_error_default(_on_handler_error)
    socketio._digitflow_handlers = True  # type: ignore[attr-defined]
