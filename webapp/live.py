"""Socket.IO: live `draw` frames go onto the queue; answers come back to that client only.

Workers emit to the client's sid room through the Redis message queue. The newest seq of each
client is kept in Redis so a worker can skip a frame that a newer one has replaced.
"""

from __future__ import annotations

import logging
import time
from typing import Any

from flask import request
from flask_socketio import emit, join_room

from shared.preprocess import InvalidInput, decode_payload
from shared.redis_keys import latest_seq
from shared.wire import pack
from webapp.extensions import redis_client, send, socketio, store

log = logging.getLogger(__name__)
SEQ_TTL_S = 3600


def _on_connect(auth: Any = None) -> None:
    emit("hello", {"model_version": store().active()})


def _on_draw(data: Any) -> None:
    seq = data.get("seq") if isinstance(data, dict) else None
    try:
        if not isinstance(seq, int) or isinstance(seq, bool):
            raise InvalidInput("draw needs an integer 'seq'")
        item = {k: v for k, v in data.items() if k != "seq"}
        ink = decode_payload(item)  # validate before queueing
    except InvalidInput as exc:
        log.info("rejected draw from %s: %s", request.sid, exc)
        emit("error", {"seq": seq if isinstance(seq, int) else None, "error": str(exc)})
        return
    redis_client().set(latest_seq(request.sid), seq, ex=SEQ_TTL_S)
    send("worker.tasks.classify_frame", request.sid, seq, pack(item, ink), time.time())


def _on_subscribe(data: Any) -> None:
    room = None
    if isinstance(data, dict):
        room = data.get("batch_id") or data.get("job_id")
    if not isinstance(room, str) or not room:
        emit("error", {"seq": None, "error": "subscribe needs a 'batch_id' or 'job_id'"})
        return
    join_room(room)


def _on_disconnect(*_: Any) -> None:
    redis_client().delete(latest_seq(request.sid))


def register_handlers() -> None:
    """Attach the handlers (done in the factory so tests get fresh apps)."""
    if getattr(socketio, "_digitflow_handlers", False):
        return
    socketio.on_event("connect", _on_connect)
    socketio.on_event("draw", _on_draw)
    socketio.on_event("subscribe", _on_subscribe)
    socketio.on_event("disconnect", _on_disconnect)
    socketio._digitflow_handlers = True  # type: ignore[attr-defined]
