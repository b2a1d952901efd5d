"""Live `draw` frames: validated, then queued by task name; answers come back to that client.

Frames pass a per-client gate (one in flight, the newest waiting), are validated, and are
sent as Celery tasks by name. Workers emit answers to the client's sid room through the
Redis message queue. The newest seq of each client is also kept in Redis, so a worker can
skip a frame that a newer one replaced (e.g. with several web processes).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any

import redis

from shared.celery_app import CLASSIFY_FRAME_TASK
from shared.preprocess import InvalidInput, decode_payload
from shared.redis_keys import COALESCED_COUNTER, latest_seq
from shared.wire import pack
from webapp.frame_gate import FrameGate
from webapp.services import TaskSender

log = logging.getLogger(__name__)
SEQ_TTL_S = 3600
Emit = Callable[..., Any]  # SocketIO.emit(event, data, to=sid)


class LiveFrames:
    """Validates and queues the frames the gate lets through."""

    def __init__(self, redis_client: redis.Redis, send_task: TaskSender, emit: Emit) -> None:
        self.redis = redis_client
        self.send_task = send_task
        self.emit = emit
        self.gate = FrameGate(self._dispatch)

    def offer(self, sid: str, frame: dict[str, Any]) -> bool:
        """A client's new frame: through the gate (sent now, parked or dropped)."""
        return self.gate.offer(sid, frame)

    def forget(self, sid: str) -> None:
        """The client left: drop its gate state and its newest-seq record."""
        self.gate.forget(sid)
        self.redis.delete(latest_seq(sid))

    def _dispatch(self, sid: str, frame: dict[str, Any]) -> None:
        seq = frame["seq"]
        item = {k: v for k, v in frame.items() if k != "seq"}
        try:
            ink = decode_payload(item)
        except InvalidInput as exc:
            log.info("rejected draw seq=%s from %s: %s", seq, sid, exc)
            self.emit("error", {"seq": seq, "error": str(exc)}, to=sid)
            self.gate.answered(sid)
            return
        pipe = self.redis.pipeline(transaction=False)
        pipe.set(latest_seq(sid), seq, ex=SEQ_TTL_S)
        coalesced = self.gate.take_coalesced()
        if coalesced:
            pipe.incrby(COALESCED_COUNTER, coalesced)
        pipe.execute()
        # ignore_result: the answer travels by Socket.IO, so don't subscribe to a result
        self.send_task(CLASSIFY_FRAME_TASK, [sid, seq, pack(item, ink), time.time()],
                       ignore_result=True)
