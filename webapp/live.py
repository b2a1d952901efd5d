"""Live `draw` frames: checked, then queued by task name; answers come back to that client.

Frames pass a per-client gate (one in flight, the newest waiting), get a cheap check (pixels
are packed, an image's header is read; the worker decodes it, once), and are sent as Celery
tasks by name on the `live` queue, with an expiry. Workers emit answers to the client's sid
room through the Redis message queue. The gate, not Redis, knows a client's newest frame: a
client's frames all reach the one web process that holds its connection. An admin's frames
also carry the session's shadow version (webapp/shadow.py), answered beside the active model.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any

import redis

from shared.celery_app import CLASSIFY_FRAME_TASK
from shared.number_wire import checked_any
from shared.preprocess import InvalidInput
from shared.redis_keys import COALESCED_COUNTER
from shared.saliency import EXPLAIN_FIELD, with_explain
from shared.shadow_wire import with_shadow
from webapp.answer_clock import AnswerClock
from webapp.frame_gate import FrameGate, Spawn, call_now
from webapp.metrics import FRAMES_COALESCED, FRAMES_RECEIVED
from webapp.services import TaskSender
from webapp.shadow import ShadowSessions

log = logging.getLogger(__name__)
Emit = Callable[..., Any]  # SocketIO.emit(event, data, to=sid)
ARRIVED = "_arrived"  # the frame's arrival time, carried beside it through the gate


class LiveFrames:
    """Checks and queues the frames the gate lets through."""

    def __init__(self, redis_client: redis.Redis, send_task: TaskSender, emit: Emit,
                 expires_s: float = 10.0, spawn: Spawn = call_now,
                 clock: AnswerClock | None = None,
                 shadows: ShadowSessions | None = None) -> None:
        self.redis = redis_client
        self.send_task = send_task
        self.emit = emit
        self.expires_s = expires_s
        self.gate = FrameGate(self._dispatch, spawn=spawn)
        self.clock = clock or AnswerClock(None, spawn)
        self.shadows = shadows or ShadowSessions()

    def offer(self, sid: str, frame: dict[str, Any]) -> bool:
        """A client's new frame: through the gate (sent now, parked or dropped)."""
        FRAMES_RECEIVED.inc()
        return self.gate.offer(sid, {**frame, ARRIVED: time.monotonic()})

    def answered(self, sid: str) -> None:
        """A worker's answer to `sid` was relayed: time it, then let the next frame go."""
        self.clock.answered(sid)
        self.gate.answered(sid)

    def forget(self, sid: str) -> None:
        """The client left: drop its gate state."""
        self.gate.forget(sid)
        self.clock.forget(sid)

    def _dispatch(self, sid: str, frame: dict[str, Any]) -> None:
        seq = frame["seq"]
        try:
            item = checked_any({k: v for k, v in frame.items()
                                if k not in ("seq", ARRIVED, EXPLAIN_FIELD)})
            item = with_explain(item, frame)  # the worker adds the saliency map
            item = with_shadow(item, self.shadows.version(sid))  # and a shadow's answer
        except InvalidInput as exc:
            log.info("rejected draw seq=%s from %s: %s", seq, sid, exc)
            self.emit("error", {"seq": seq, "error": str(exc)}, to=sid)
            self.gate.answered(sid)
            return
        coalesced = self.gate.take_coalesced()
        if coalesced:  # a round trip only when there is something to count
            self.redis.incrby(COALESCED_COUNTER, coalesced)
            FRAMES_COALESCED.inc(coalesced)
        self.clock.sent(sid, frame[ARRIVED])
        # ignore_result: the answer travels by Socket.IO; expires: a frame redelivered after a
        # crash, or stuck behind a dead worker, is dropped rather than answered late
        self.send_task(CLASSIFY_FRAME_TASK, [sid, seq, item], ignore_result=True,
                       expires=self.expires_s)
