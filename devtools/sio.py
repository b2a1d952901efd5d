"""Real python-socketio clients: websocket first, as the page connects, and a recording one.

Websocket first (README "Deployment"): a websocket is one TCP connection, so any load balancer
may send it to any web process; Socket.IO's default (long-polling, then an upgrade) sends
several requests per session that must all reach the same process (sticky sessions). When the
websocket cannot be opened (a network that blocks websockets), the client falls back to
long-polling with an upgrade attempt, like the page's `tryAllTransports`; a connection the
server refuses (the connection cap, say) is not retried.
"""

from __future__ import annotations

import threading
import time
from typing import Any

import engineio
import socketio

WEBSOCKET_ONLY = ["websocket"]
POLLING_FALLBACK = ["polling", "websocket"]  # long-polling, then an upgrade to websocket


def _transport_failed(exc: socketio.exceptions.ConnectionError) -> bool:
    """True when the transport could not connect, not when the server refused us."""
    return isinstance(exc.__cause__, engineio.exceptions.ConnectionError)


def connect_websocket_first(sio: socketio.Client, url: str, **kwargs: Any) -> str:
    """Connect over a websocket, else over long-polling; returns the transport used."""
    try:
        sio.connect(url, transports=WEBSOCKET_ONLY, **kwargs)
    except socketio.exceptions.ConnectionError as exc:
        if not _transport_failed(exc):
            raise
        sio.connect(url, transports=POLLING_FALLBACK, **kwargs)
    return sio.transport()


async def connect_websocket_first_async(sio: socketio.AsyncClient, url: str,
                                        **kwargs: Any) -> str:
    """`connect_websocket_first` for asyncio clients (benchmarks)."""
    try:
        await sio.connect(url, transports=WEBSOCKET_ONLY, **kwargs)
    except socketio.exceptions.ConnectionError as exc:
        if not _transport_failed(exc):
            raise
        await sio.connect(url, transports=POLLING_FALLBACK, **kwargs)
    return sio.transport()


class RecordingClient:
    """Connects to the stack (websocket first) and keeps every event it gets, in order."""

    def __init__(self, url: str, reconnection: bool = False,
                 transports: list[str] | None = None, auth: dict[str, Any] | None = None
                 ) -> None:
        self.events: list[tuple[str, dict[str, Any], float]] = []
        self._cond = threading.Condition()
        self.connects = 0  # how many times the transport (re)connected
        self.disconnects = 0
        # reconnection=True: python-socketio's own retry (0.5 s, doubling up to 2 s), as a
        # browser would do, for tests that restart the web server under a connected client.
        self.sio = socketio.Client(reconnection=reconnection, reconnection_delay=0.5,
                                   reconnection_delay_max=2)
        self.sio.on("connect", self._on_connect)
        self.sio.on("disconnect", self._on_disconnect)
        for name in ("prediction", "error", "hello", "model_activated", "batch_progress",
                     "train_progress", "shadow"):
            self.sio.on(name, self._recorder(name))
        if transports:  # a given transport list (the tests of the polling fallback)
            self.sio.connect(url, transports=transports, wait_timeout=10, auth=auth)
        else:
            connect_websocket_first(self.sio, url, wait_timeout=10, auth=auth)

    def _on_connect(self) -> None:
        with self._cond:
            self.connects += 1
            self._cond.notify_all()

    def _on_disconnect(self, reason: Any = None) -> None:
        with self._cond:
            self.disconnects += 1
            self._cond.notify_all()

    def wait_connects(self, n: int, timeout: float = 30.0) -> None:
        """Wait until the client has (re)connected `n` times in all."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while self.connects < n:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise TimeoutError(f"{self.connects} connects after {timeout}s, not {n}")
                self._cond.wait(left)

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
