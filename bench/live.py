"""Live-drawing benchmark: N Socket.IO clients drawing real MNIST digits at 10 frames/s.

Prints end-to-end latency (emit -> `prediction` received) p50/p95/p99, frames answered/sent,
frames coalesced by the workers, and the raw single-image model latency measured in this run.

    python bench/live.py                       # starts its own system with 1 worker
    python bench/live.py --url http://127.0.0.1:5000 --redis redis://127.0.0.1:6379/0
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import threading
import time
from pathlib import Path

import numpy as np

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import redis
import socketio

from shared.mnist import load_mnist
from shared.redis_keys import COALESCED_COUNTER


class Drawer:
    """One simulated user: sends frames at `fps`, records when each answer arrives."""

    def __init__(self, url: str, frames: list[list[list[int]]], fps: float) -> None:
        self.frames, self.fps = frames, fps
        self.sent: dict[int, float] = {}
        self.latency_ms: dict[int, float] = {}
        self.errors: list[dict] = []
        self.sio = socketio.Client(reconnection=False)
        self.sio.on("prediction", self._on_prediction)
        self.sio.on("error", self.errors.append)
        self.sio.connect(url, wait_timeout=20)

    def _on_prediction(self, data: dict) -> None:
        seq = data["seq"]
        if seq in self.sent:
            self.latency_ms[seq] = (time.perf_counter() - self.sent[seq]) * 1000

    def run(self, duration: float, start_at: float) -> None:
        period = 1.0 / self.fps
        time.sleep(max(0.0, start_at - time.perf_counter()))
        t_end = start_at + duration
        seq = 0
        next_t = time.perf_counter()
        while next_t < t_end:
            seq += 1
            frame = self.frames[seq % len(self.frames)]
            self.sent[seq] = time.perf_counter()
            self.sio.emit("draw", {"pixels": frame, "seq": seq})
            next_t += period
            time.sleep(max(0.0, next_t - time.perf_counter()))


def raw_model_latency_ms(n: int = 300) -> float:
    """Median single-image latency of the compiled model, in this process."""
    from shared.classifier import Classifier
    from shared.model_store import BUNDLED_DIR

    clf = Classifier(BUNDLED_DIR)
    x = np.zeros((1, 28, 28), np.uint8)
    x[0, 6:22, 12:16] = 255
    times = []
    for _ in range(n):
        t = time.perf_counter()
        clf.predict(x)
        times.append((time.perf_counter() - t) * 1000)
    return float(np.median(times))


def run_level(url: str, r: redis.Redis, n_clients: int, frames: list, fps: float,
              duration: float) -> dict:
    """Run one load level and summarise it."""
    drawers = [Drawer(url, frames[i::n_clients] or frames, fps) for i in range(n_clients)]
    coalesced_before = int(r.get(COALESCED_COUNTER) or 0)
    start_at = time.perf_counter() + 0.5
    threads = [threading.Thread(target=d.run, args=(duration, start_at + i * (1 / fps) / n_clients))
               for i, d in enumerate(drawers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    time.sleep(2.0)  # let the last answers arrive
    coalesced = int(r.get(COALESCED_COUNTER) or 0) - coalesced_before
    lat = np.array([v for d in drawers for v in d.latency_ms.values()])
    sent = sum(len(d.sent) for d in drawers)
    last_answered = sum(max(d.sent) in d.latency_ms for d in drawers)
    errors = sum(len(d.errors) for d in drawers)
    for d in drawers:
        d.sio.disconnect()
    return {
        "clients": n_clients, "sent": sent, "answered": int(lat.size), "coalesced": coalesced,
        "lost": sent - int(lat.size) - coalesced, "errors": errors,
        "last_frame_answered": f"{last_answered}/{n_clients}",
        "p50_ms": float(np.percentile(lat, 50)) if lat.size else None,
        "p95_ms": float(np.percentile(lat, 95)) if lat.size else None,
        "p99_ms": float(np.percentile(lat, 99)) if lat.size else None,
    }


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--url", help="use a running system at this URL (else start one)")
    ap.add_argument("--redis", help="its REDIS_URL (to read the coalesced counter)")
    ap.add_argument("--clients", default="1,10,50", help="comma-separated client counts")
    ap.add_argument("--fps", type=float, default=10.0, help="frames per second per client")
    ap.add_argument("--duration", type=float, default=20.0, help="seconds per level")
    ap.add_argument("--workers", type=int, default=1, help="workers when starting a system")
    ap.add_argument("--data", default=os.environ.get("MNIST_DIR", "../shared/data/mnist"))
    ap.add_argument("--json", dest="json_out", help="also write the figures to this JSON file")
    args = ap.parse_args()

    test = load_mnist("test", args.data)
    frames = [img.tolist() for img in test.images[:500]]
    raw_ms = raw_model_latency_ms()
    levels = [int(c) for c in args.clients.split(",")]

    def bench(url: str, redis_url: str) -> list[dict]:
        r = redis.Redis.from_url(redis_url)
        return [run_level(url, r, n, frames, args.fps, args.duration) for n in levels]

    if args.url:
        rows = bench(args.url, args.redis or "redis://127.0.0.1:6379/0")
    else:
        from devtools.stack import running_system

        with running_system(workers=args.workers) as stack:
            rows = bench(stack.url, stack.redis_url)

    print(f"\nlive drawing: {args.fps:g} frames/s per client, {args.duration:g}s per level, "
          f"{args.workers if not args.url else '?'} worker(s), 28x28 MNIST frames")
    print(f"raw single-image model latency (compiled, this process): {raw_ms:.2f} ms")
    head = ("clients", "sent", "answered", "coalesced", "lost", "errors", "p50_ms", "p95_ms",
            "p99_ms", "p50/raw")
    print(" ".join(f"{h:>9}" for h in head))
    for row in rows:
        ratio = row["p50_ms"] / raw_ms if row["p50_ms"] else float("nan")
        vals = [row[h] for h in head[:-1]] + [ratio]
        print(" ".join(f"{v:>9.1f}" if isinstance(v, float) else f"{v!s:>9}" for v in vals))
    if args.json_out:
        Path(args.json_out).write_text(json.dumps({"raw_ms": raw_ms, "levels": rows}, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
