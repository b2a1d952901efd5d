"""Explain benchmark: what `"explain": true` costs a live drawer, and what it costs others.

One throwaway system (embedded Redis, one worker, the web server; devtools/stack.py) and
Socket.IO clients that send what the page sends (112x112 PNG data URLs of MNIST test digits),
one frame at a time, each timed from the emit to its `prediction`:

  1. one client, frames with and without `explain` interleaved (so both see the same
     machine): p50/p95 of each and the ratio (issue 12's target: explain <= 2x without);
  2. a second client that never asks for saliency, alone and while the first streams
     explained frames back to back: its p50/p95 and the ratio (explained frames must not
     slow other clients' live frames beyond sharing the CPU).

    python bench/explain.py                 # 100 frames of each kind
    python bench/explain.py --frames 300

Compare the ratios, not the absolute times: the machine's other load shows in every figure.
"""

from __future__ import annotations

import argparse
import base64
import io
import sys
import threading
import time
from pathlib import Path
from typing import Any

import numpy as np
import socketio
from PIL import Image

from shared.mnist import load_mnist

FRAME = 112  # FRAME_SIZE in webapp/static/draw/canvas.js
TIMEOUT_S = 30.0
MNIST_DIR = Path(__file__).resolve().parents[2] / "shared" / "data" / "mnist"


def page_frame(digit: np.ndarray) -> str:
    """A digit as the page sends it: an opaque RGBA PNG data URL of the 112x112 frame."""
    img = Image.fromarray(digit).resize((FRAME, FRAME), Image.Resampling.BILINEAR)
    buf = io.BytesIO()
    img.convert("RGBA").save(buf, format="PNG")
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode()


class Drawer:
    """A Socket.IO client that sends one frame and waits for that frame's answer."""

    def __init__(self, url: str) -> None:
        self.sio = socketio.Client(reconnection=False)
        self.seq = 0
        self.answer: dict[str, Any] | None = None
        self.arrived = threading.Event()
        self.sio.on("prediction", self._on_answer)
        self.sio.on("error", self._on_answer)
        self.sio.connect(url, transports=["websocket"], wait_timeout=20)

    def _on_answer(self, msg: dict[str, Any]) -> None:
        if isinstance(msg, dict) and msg.get("seq") == self.seq:
            self.answer = msg
            self.arrived.set()

    def draw(self, image: str, explain: bool) -> tuple[float, dict[str, Any]]:
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

    def close(self) -> None:
        self.sio.disconnect()


def pct(ms: list[float], q: float) -> float:
    return float(np.percentile(ms, q))


def line(name: str, ms: list[float]) -> str:
    return f"  {name:<44} n={len(ms):>4}  p50 {pct(ms, 50):7.1f} ms  p95 {pct(ms, 95):7.1f} ms"


def run(url: str, frames: list[str]) -> None:
    """Both measurements against a running system at `url`."""
    a = Drawer(url)
    for image in frames[:5]:  # warm up both paths (traces, connections)
        a.draw(image, False)
        a.draw(image, True)
    plain, explained = [], []
    for image in frames:
        plain.append(a.draw(image, False)[0])
        ms, answer = a.draw(image, True)
        explained.append(ms)
        assert np.asarray(answer["saliency"]).shape == (28, 28)
    print("1. one client, frames interleaved:")
    print(line("without explain", plain))
    print(line("with explain (1 + inked patches, one pass)", explained))
    print(f"  ratio with/without: p50 {pct(explained, 50) / pct(plain, 50):.2f}x, "
          f"p95 {pct(explained, 95) / pct(plain, 95):.2f}x (target <= 2x)")

    b = Drawer(url)
    alone = [b.draw(image, False)[0] for image in frames]
    stop = threading.Event()

    def stream() -> None:
        while not stop.is_set():
            for image in frames:
                if stop.is_set():
                    break
                a.draw(image, True)

    streamer = threading.Thread(target=stream, daemon=True)
    streamer.start()
    beside = [b.draw(image, False)[0] for image in frames]
    stop.set()
    streamer.join(TIMEOUT_S)
    print("2. another client that does not ask for saliency:")
    print(line("alone", alone))
    print(line("while the first streams explained frames", beside))
    print(f"  ratio beside/alone: p50 {pct(beside, 50) / pct(alone, 50):.2f}x, "
          f"p95 {pct(beside, 95) / pct(alone, 95):.2f}x")
    a.close()
    b.close()


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--frames", type=int, default=100, help="frames of each kind (default 100)")
    ap.add_argument("--url", help="measure a running system at this URL (else start one)")
    ap.add_argument("--mnist", default=str(MNIST_DIR), help="MNIST folder (test digits)")
    args = ap.parse_args()
    digits = load_mnist("test", args.mnist).images[: args.frames]
    frames = [page_frame(d) for d in digits]
    print(f"bench/explain.py: {args.frames} frames of each kind, {FRAME}x{FRAME} PNG frames",
          flush=True)
    if args.url:
        run(args.url, frames)
        return 0
    from devtools.stack import running_system

    with running_system(workers=1) as stack:
        print(f"system up: {stack.url} (logs in {stack.log_dir})", flush=True)
        run(stack.url, frames)
    return 0


if __name__ == "__main__":
    sys.exit(main())
