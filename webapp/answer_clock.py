"""Times each live frame from its arrival to its answer being relayed, for the metrics and
the operator view's latency chart.

The frame gate lets one frame per client into the pipeline, so "the client's frame in flight"
is one arrival time per sid. Every web process relays every answer (Redis pub/sub); only the
process holding the client knows its arrival time, so each answer is counted once.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import Any

import redis

from shared.latency_window import LatencyWindow
from webapp.metrics import ANSWER_LATENCY, FRAMES_ANSWERED

log = logging.getLogger(__name__)


class AnswerClock:
    """sid -> when its frame in flight arrived; `answered` observes the latency."""

    def __init__(self, window: LatencyWindow | None, spawn: Callable[..., Any]) -> None:
        self.window = window
        self.spawn = spawn
        self._arrived: dict[str, float] = {}
        self._lock = threading.Lock()

    def sent(self, sid: str, arrived: float) -> None:
        """The client's frame (which arrived at `arrived`, monotonic) went to a worker."""
        with self._lock:
            self._arrived[sid] = arrived

    def answered(self, sid: str) -> None:
        """An answer to `sid` passed through: record its latency if this process sent it."""
        with self._lock:
            arrived = self._arrived.pop(sid, None)
        if arrived is None:  # another process's client, or an answer already counted
            return
        latency = time.monotonic() - arrived
        FRAMES_ANSWERED.inc()
        ANSWER_LATENCY.observe(latency)
        if self.window is not None and self.window.add(latency):
            self.spawn(self._flush_soon)  # at most once a second, off the relay greenlet

    def _flush_soon(self) -> None:
        try:
            self.window.flush_soon()  # type: ignore[union-attr]
        except Exception as exc:  # Redis away: the chart misses a second, nothing else
            log.warning("could not write the latency window: %s", exc)

    def forget(self, sid: str) -> None:
        """The client left."""
        with self._lock:
            self._arrived.pop(sid, None)


def process_answer_clock(r: redis.Redis, spawn: Callable[..., Any]) -> AnswerClock:
    """The clock of this web process, adding to the shared latency window in Redis."""
    return AnswerClock(LatencyWindow(r), spawn)
