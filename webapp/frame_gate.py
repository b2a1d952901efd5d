"""Per-client admission of live frames: at most one in the pipeline, the newest one waiting.

A person drawing sends ~10 frames/s, but only the newest matters. While a client's frame is
being classified, newer frames wait here, each replacing the last (coalesced), so under load
stale frames cost neither queue traffic nor model time, and each client's latency stays
bounded by one round trip. If an answer never comes (a worker died), the gate reopens after
`stale_after_s`. Pure logic; the web process calls `offer` from the `draw` handler and
`answered` when a prediction or error for that client passes through. `answered` runs in the
Socket.IO message-queue listener, which relays every client's answers, so it never dispatches
(validates, queues) itself: it hands the next frame to `spawn` (a new greenlet or thread).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

Dispatch = Callable[[str, dict[str, Any]], None]
Spawn = Callable[..., Any]  # spawn(fn, *args): run fn(*args) elsewhere, soon


def call_now(fn: Callable[..., Any], *args: Any) -> None:
    """The default `spawn`: run inline (pure-logic tests)."""
    fn(*args)


class FrameGate:
    """Thread-safe: handlers and the message-queue listener call it concurrently."""

    def __init__(self, dispatch: Dispatch, stale_after_s: float = 2.0,
                 clock: Callable[[], float] = time.monotonic, spawn: Spawn = call_now) -> None:
        self._dispatch = dispatch
        self._spawn = spawn
        self._stale_after = stale_after_s
        self._clock = clock
        self._lock = threading.Lock()
        self._inflight: dict[str, float] = {}  # sid -> when its frame was dispatched
        self._parked: dict[str, dict[str, Any]] = {}  # sid -> newest waiting frame
        self._newest: dict[str, int] = {}  # sid -> highest seq offered
        self.coalesced = 0

    def offer(self, sid: str, frame: dict[str, Any]) -> bool:
        """Dispatch now if the client has nothing in flight; else park it. True if sent.

        Socket.IO handles each event in its own thread, so frames can arrive here out of
        order: one older than the newest seen is dropped, never sent after a newer one.
        """
        with self._lock:
            seq = frame["seq"]
            if seq <= self._newest.get(sid, seq - 1):
                self.coalesced += 1
                return False
            self._newest[sid] = seq
            since = self._inflight.get(sid)
            if since is not None and self._clock() - since < self._stale_after:
                if sid in self._parked:
                    self.coalesced += 1
                self._parked[sid] = frame
                return False
            self._inflight[sid] = self._clock()
        self._dispatch(sid, frame)
        return True

    def answered(self, sid: str) -> None:
        """The client's frame came back: send its newest waiting frame (via `spawn`), if any."""
        with self._lock:
            frame = self._parked.pop(sid, None)
            if frame is None:
                self._inflight.pop(sid, None)
                return
            self._inflight[sid] = self._clock()
        self._spawn(self._dispatch, sid, frame)

    def take_coalesced(self) -> int:
        """Frames coalesced since the last call (for the shared counter in Redis)."""
        with self._lock:
            count, self.coalesced = self.coalesced, 0
            return count

    def forget(self, sid: str) -> None:
        """The client left."""
        with self._lock:
            self._inflight.pop(sid, None)
            self._parked.pop(sid, None)
            self._newest.pop(sid, None)
