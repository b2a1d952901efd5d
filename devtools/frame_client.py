"""A benchmark's drawing client: frames as the page sends them, one at a time, each timed
from the emit to its answer (bench/explain.py, bench/shadow.py)."""

from __future__ import annotations

import base64
import io
import threading
import time
from typing import Any

import numpy as np
import socketio
from PIL import Image

FRAME = 112  # FRAME_SIZE in webapp/static/draw/canvas.js
TIMEOUT_S = 30.0


def page_frame(digit: np.ndarray) -> str:
    """A digit as the page sends it: an opaque RGBA PNG data URL of the 112x112 frame."""
    img = Image.fromarray(digit).resize((FRAME, FRAME), Image.Resampling.BILINEAR)
    buf = io.BytesIO()
    img.convert("RGBA").save(buf, format="PNG")
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode()


class Drawer:
    """A Socket.IO client that sends one frame and waits for that frame's answer; `auth`
    (e.g. the admin token) is sent at connect."""

    def __init__(self, url: str, auth: dict[str, Any] | None = None) -> None:
        self.sio = socketio.Client(reconnection=False)
        self.seq = 0
        self.answer: dict[str, Any] | None = None
        self.arrived = threading.Event()
        self.shadow_set = threading.Event()
        self.sio.on("prediction", self._on_answer)
        self.sio.on("error", self._on_answer)
        self.sio.on("shadow", lambda _msg: self.shadow_set.set())
        self.sio.connect(url, transports=["websocket"], wait_timeout=20, auth=auth)

    def _on_answer(self, msg: dict[str, Any]) -> None:
        if isinstance(msg, dict) and msg.get("seq") in (self.seq, None):
            self.answer = msg
            self.arrived.set()

    def draw(self, image: str, explain: bool = False) -> tuple[float, dict[str, Any]]:
        """Milliseconds from emit to the answer, and the answer."""
        self.seq += 1
        self.arrived.clear()
        frame: dict[str, Any] = {"image": image, "seq": self.seq}
        if explain:
            frame["explain"] = True
        started = time.perf_counter()
        self.sio.emit("draw", frame)
        if not self.arrived.wait(TIMEOUT_S):
            raise RuntimeError(f"no answer to frame {self.seq} within {TIMEOUT_S} s")
        assert self.answer is not None
        if "error" in self.answer:
            raise RuntimeError(f"frame {self.seq}: {self.answer['error']}")
        return (time.perf_counter() - started) * 1000, self.answer

    def set_shadow(self, version: int | None) -> None:
        """Set (None: clear) this session's shadow version; waits for the server's ack."""
        self.shadow_set.clear()
        self.arrived.clear()
        self.sio.emit("shadow", {"version": version})
        if not self.shadow_set.wait(TIMEOUT_S):
            problem = self.answer.get("error") if self.arrived.is_set() and self.answer else None
            raise RuntimeError(f"shadow {version} not acknowledged: {problem}")

    def close(self) -> None:
        self.sio.disconnect()


def pct(ms: list[float], q: float) -> float:
    return float(np.percentile(ms, q))


def line(name: str, ms: list[float]) -> str:
    return (f"  {name:<44} n={len(ms):>4}  p50 {pct(ms, 50):7.1f} ms  "
            f"p95 {pct(ms, 95):7.1f} ms  p99 {pct(ms, 99):7.1f} ms")
