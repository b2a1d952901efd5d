"""A real python-socketio client that records what the server sends it."""

from __future__ import annotations

import threading
import time
from typing import Any

import socketio


class RecordingClient:
    """Connects to the stack and keeps every `prediction`/`error`/`hello` event in order."""

    def __init__(self, url: str, reconnection: bool = False) -> None:
        self.events: list[tuple[str, dict[str, Any], float]] = []
        self._cond = threading.Condition()
        self.connects = 0  # how many times the transport (re)connected
        # reconnection=True: python-socketio's own retry (0.5 s, doubling up to 2 s), as a
        # browser would do, for tests that restart the web server under a connected client.
        self.sio = socketio.Client(reconnection=reconnection, reconnection_delay=0.5,
                                   reconnection_delay_max=2)
        self.sio.on("connect", self._on_connect)
        for name in ("prediction", "error", "hello", "model_activated", "batch_progress",
                     "train_progress"):
            self.sio.on(name, self._recorder(name))
        self.sio.connect(url, wait_timeout=10)

    def _on_connect(self) -> None:
        with self._cond:
            self.connects += 1
            self._cond.notify_all()

    def _recorder(self, name: str):  # type: ignore[no-untyped-def]
        def record(data: dict[str, Any]) -> None:
            with self._cond:
                self.events.append((name, data, time.perf_counter()))
                self._cond.notify_all()
        return record

    def of(self, name: str) -> list[dict[str, Any]]:
        with self._cond:
            return [d for n, d, _ in self.events if n == name]

    def wait_for(self, name: str, pred: Any = lambda d: True, timeout: float = 15.0) -> dict:
        """The first `name` event matching `pred`, waiting up to `timeout` seconds."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                for n, d, _ in self.events:
                    if n == name and pred(d):
                        return d
                left = deadline - time.monotonic()
                if left <= 0:
                    raise TimeoutError(f"no {name} event matching after {timeout}s: "
                                       f"{[(n, d.get('seq')) for n, d, _ in self.events]}")
                self._cond.wait(left)

    def draw(self, pixels: Any, seq: int, **extra: Any) -> None:
        self.sio.emit("draw", {"pixels": pixels, "seq": seq, **extra})

    def close(self) -> None:
        self.sio.disconnect()
