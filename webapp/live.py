"""Socket.IO: live `draw` frames go onto the queue; answers come back to that client only.

Frames pass a per-client gate (one in flight, the newest waiting), get a cheap check (pixels
are packed, an image's header is read; the worker decodes it, once), and are sent as Celery
tasks by name on the `live` queue, with an expiry. Workers emit answers to the client's sid
room through the Redis message queue. Each address may hold a limited number of connections.
"""

from __future__ import annotations

import logging
from typing import Any

import redis
from celery import Celery
from flask import request
from flask_socketio import ConnectionRefusedError, emit, join_room

from shared.preprocess import InvalidInput
from shared.redis_keys import COALESCED_COUNTER
from shared.wire import checked
from webapp.connection_cap import ConnectionCap
from webapp.extensions import live_frames, socketio, store
from webapp.frame_gate import FrameGate, Spawn

log = logging.getLogger(__name__)


class LiveFrames:
    """Checks and queues the frames the gate lets through; caps connections per address."""

    def __init__(self, redis_client: redis.Redis, celery: Celery, expires_s: float,
                 max_per_address: int, spawn: Spawn) -> None:
        self.redis = redis_client
        self.celery = celery
        self.expires_s = expires_s
        self.gate = FrameGate(self._dispatch, spawn=spawn)
        self.cap = ConnectionCap(max_per_address)

    def _dispatch(self, sid: str, frame: dict[str, Any]) -> None:
        seq = frame["seq"]
        try:
            item = checked({k: v for k, v in frame.items() if k != "seq"})
        except InvalidInput as exc:
            log.info("rejected draw seq=%s from %s: %s", seq, sid, exc)
            socketio.emit("error", {"seq": seq, "error": str(exc)}, to=sid)
            self.gate.answered(sid)
            return
        coalesced = self.gate.take_coalesced()
        if coalesced:  # a round trip only when there is something to count
            self.redis.incrby(COALESCED_COUNTER, coalesced)
        # ignore_result: the answer travels by Socket.IO; expires: a frame redelivered after a
        # crash, or stuck behind a dead worker, is dropped rather than answered late
        self.celery.send_task("worker.tasks.classify_frame", args=[sid, seq, item],
                              ignore_result=True, expires=self.expires_s)


def _on_connect(auth: Any = None) -> None:
    live = live_frames()
    if not live.cap.admit(request.sid, request.remote_addr or "?"):
        log.info("refused a connection from %s: %d already open", request.remote_addr,
                 live.cap.limit)
        raise ConnectionRefusedError(
            f"too many connections from your address: at most {live.cap.limit} at once")
    emit("hello", {"model_version": store().active()})


def _on_draw(data: Any) -> None:
    seq = data.get("seq") if isinstance(data, dict) else None
    if not isinstance(seq, int) or isinstance(seq, bool):
        emit("error", {"seq": None, "error": "draw needs a JSON object with an integer 'seq'"})
        return
    unknown = set(data) - {"pixels", "image", "seq"}
    if unknown:
        emit("error", {"seq": seq, "error": f"unknown field(s): {', '.join(sorted(unknown))}"})
        return
    live_frames().gate.offer(request.sid, data)


def _on_subscribe(data: Any) -> None:
    room = None
    if isinstance(data, dict):
        room = data.get("batch_id") or data.get("job_id")
    if not isinstance(room, str) or not room:
        emit("error", {"seq": None, "error": "subscribe needs a 'batch_id' or 'job_id'"})
        return
    join_room(room)


def _on_disconnect(*_: Any) -> None:
    live = live_frames()
    live.gate.forget(request.sid)
    live.cap.release(request.sid)


def register_handlers() -> None:
    """Attach the handlers once per process."""
    if getattr(socketio, "_digitflow_handlers", False):
        return
    socketio.on_event("connect", _on_connect)
    socketio.on_event("draw", _on_draw)
    socketio.on_event("subscribe", _on_subscribe)
    socketio.on_event("disconnect", _on_disconnect)
    socketio._digitflow_handlers = True  # type: ignore[attr-defined]
