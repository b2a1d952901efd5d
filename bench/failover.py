"""Failover benchmark: one web process SIGKILLed under load, behind nginx.

A throwaway system (embedded Redis, --webs web processes behind a real nginx running
deploy/nginx.conf on loopback, --workers workers) serves --clients drawers. Each drawer connects
through nginx as the page does (websocket first) and draws at --fps; it reconnects by itself
with python-socketio's defaults, which are the browser client's: the first retry after 1 s
+- 50%, then doubling up to 5 s. After --warmup seconds, web process 0 is SIGKILLed. For every
drawer that was on it, the script times, from the kill:
  - reconnected: its socket is connected again (through nginx, to a surviving process);
  - drawing again: the first prediction for a frame it sent after reconnecting.
It also counts the frames left without an answer for 2 s ("late"): the other drawers' after the
kill, and everyone's before it (the load the system was under). Then the killed process is
started again on its port, and the next of --runs runs begins.

    python bench/failover.py                      # 50 drawers, 2 web, 2 workers, 3 runs
    python bench/failover.py --clients 50 --runs 5
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import resource
import signal
import sys
import time
from typing import Any

import aiohttp
import numpy as np
import requests
import socketio

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from live import Addresses, OneInFlight, encode_frame, page_frames  # bench/live.py, beside

from devtools.sio import connect_websocket_first_async
from devtools.stack import Stack, running_system, stop
from shared.mnist import load_mnist

TARGET_S = 5.0
LATE_S = 2.0


class Drawer:
    """A drawer that keeps drawing across a reconnect and timestamps what happens to it; one
    frame in flight, as the page (`OneInFlight`)."""

    def __init__(self, frames: list[dict[str, Any]]) -> None:
        self.frames = frames
        self.sent: dict[int, float] = {}
        self.answered: dict[int, float] = {}
        self.disconnected_at: float | None = None
        self.reconnected_at: float | None = None
        self.sio: socketio.AsyncClient | None = None
        self.session: aiohttp.ClientSession | None = None
        self.flow = OneInFlight()

    async def connect(self, url: str, addr: str) -> None:
        self.session = aiohttp.ClientSession(
            connector=aiohttp.TCPConnector(local_addr=(addr, 0)),
            timeout=aiohttp.ClientTimeout(total=None, connect=15))
        self.sio = socketio.AsyncClient(reconnection=True, http_session=self.session)
        self.sio.on("connect", self._on_connect)
        self.sio.on("disconnect", self._on_disconnect)
        self.sio.on("prediction", self._on_prediction)
        await connect_websocket_first_async(self.sio, url, wait_timeout=20)

    async def _on_connect(self) -> None:
        self.flow.reset()  # the page sends its drawing again on a reconnect
        if self.disconnected_at is not None and self.reconnected_at is None:
            self.reconnected_at = time.perf_counter()

    async def _on_disconnect(self, reason: Any = None) -> None:
        if self.disconnected_at is None:
            self.disconnected_at = time.perf_counter()

    async def _on_prediction(self, data: dict) -> None:
        seq = data.get("seq")
        if seq in self.sent and seq not in self.answered:
            self.answered[seq] = time.perf_counter()
        waiting = self.flow.answered(seq)
        if waiting is not None:
            await self._emit(waiting)

    async def _emit(self, seq: int) -> None:
        assert self.sio is not None
        self.flow.sending(seq, time.perf_counter())
        with contextlib.suppress(Exception):  # a socket dying under an emit
            await self.sio.emit("draw", {**self.frames[seq % len(self.frames)], "seq": seq})

    async def draw(self, fps: float, stop_at: float) -> None:
        assert self.sio is not None
        seq, next_t = 0, time.perf_counter()
        while next_t < stop_at:
            await asyncio.sleep(max(0.0, next_t - time.perf_counter()))
            next_t += 1.0 / fps
            if not self.sio.connected:
                continue  # the page does the same: nothing is sent while disconnected
            seq += 1
            self.sent[seq] = time.perf_counter()  # when it was drawn
            if self.flow.drawn(seq, self.sent[seq]):
                await self._emit(seq)

    def drawing_again_at(self) -> float | None:
        """When the first frame sent after the reconnect was answered."""
        if self.reconnected_at is None:
            return None
        after = [self.answered[s] for s, t in self.sent.items()
                 if t >= self.reconnected_at and s in self.answered]
        return min(after) if after else None

    def late_frames(self, t0: float, t1: float) -> int:
        """Frames sent in [t0, t1] with no answer to them or a newer frame within LATE_S."""
        late, fresh_at = 0, float("inf")
        for seq in sorted(self.sent, reverse=True):
            if seq in self.answered:
                fresh_at = min(fresh_at, self.answered[seq])
            if t0 <= self.sent[seq] <= t1 and fresh_at - self.sent[seq] > LATE_S:
                late += 1
        return late

    async def close(self) -> None:
        if self.sio is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self.sio.disconnect(), 5)
        if self.session is not None:
            await self.session.close()


async def one_run(stack: Stack, frames: list[dict[str, Any]], args: argparse.Namespace,
                  addresses: Addresses) -> dict:
    """Drawers through nginx, web process 0 killed after the warm-up; the timings."""
    ds = [Drawer(frames[i::args.clients]) for i in range(args.clients)]
    sem = asyncio.Semaphore(50)

    async def connect(d: Drawer) -> None:
        async with sem:
            await d.connect(stack.url, addresses.next())

    await asyncio.gather(*(connect(d) for d in ds))
    t_start = time.perf_counter()
    stop_at = t_start + args.warmup + args.after
    drawing = asyncio.gather(*(d.draw(args.fps, stop_at) for d in ds))
    await asyncio.sleep(args.warmup)
    t_kill = time.perf_counter()
    await asyncio.to_thread(stop, stack.webs[0], signal.SIGKILL)
    await drawing
    await asyncio.sleep(LATE_S)
    moved = [d for d in ds if d.disconnected_at is not None]
    stayed = [d for d in ds if d.disconnected_at is None]
    reconnect = [d.reconnected_at - t_kill for d in moved if d.reconnected_at is not None]
    again = [t - t_kill for d in moved if (t := d.drawing_again_at()) is not None]
    out = {"clients": len(ds), "on_killed": len(moved), "reconnected": len(reconnect),
           "drawing_again": len(again), "reconnect_s": reconnect, "drawing_again_s": again,
           "others_late": sum(d.late_frames(t_kill, stop_at) for d in stayed),
           "others_sent": sum(1 for d in stayed for t in d.sent.values() if t >= t_kill),
           "all_late_before": sum(d.late_frames(t_start, t_kill) for d in ds),
           "all_sent_before": sum(1 for d in ds for t in d.sent.values() if t < t_kill),
           "others_late_by_s": [sum(d.late_frames(t_kill + k, t_kill + k + 1) for d in stayed)
                                for k in range(int(args.after))]}
    await asyncio.gather(*(d.close() for d in ds))
    return out


def rejoin(stack: Stack, workers: int) -> None:
    """Start the killed process again on its port and let nginx take it back.

    nginx (open source) checks a failed server passively: after `fail_timeout` (5 s) it sends
    it one connection, and forgets the failure only when that connection *ends*; a websocket
    lasts for minutes. A few short requests (page loads do this in production) bring it back.
    """
    stack.start_web(stack.web_port(0))
    stack.wait_ready(workers=workers)
    time.sleep(6)
    for _ in range(10):
        requests.get(f"{stack.url}/healthz", timeout=10)


def pct(xs: list[float], q: float) -> str:
    return f"{np.percentile(xs, q):.2f}" if xs else "-"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--clients", type=int, default=50, help="drawers (default 50)")
    ap.add_argument("--webs", type=int, default=2, help="web processes behind nginx (default 2)")
    ap.add_argument("--workers", type=int, default=2, help="inference workers (default 2)")
    ap.add_argument("--fps", type=float, default=10.0, help="frames/s per drawer (default 10)")
    ap.add_argument("--warmup", type=float, default=5.0, help="seconds drawn before the kill")
    ap.add_argument("--after", type=float, default=15.0, help="seconds drawn after the kill")
    ap.add_argument("--runs", type=int, default=3, help="kills, one per run (default 3)")
    ap.add_argument("--per-address", type=int, default=10,
                    help="connections per loopback source address (default 10)")
    ap.add_argument("--data", default=os.environ.get("MNIST_DIR", "../shared/data/mnist"))
    args = ap.parse_args()
    if args.webs < 2:
        ap.error("--webs must be at least 2: someone has to survive the kill")

    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    frames = [encode_frame(f, "image")
              for f in page_frames(load_mnist("test", args.data).images, 500)]
    addresses = Addresses(args.per_address)
    runs = []
    with running_system(workers=args.workers, webs=args.webs, nginx=True) as stack:
        print(f"system up: nginx {stack.url} in front of {stack.web_urls} "
              f"(logs in {stack.log_dir})", flush=True)
        for r in range(args.runs):
            if r:
                rejoin(stack, args.workers)
            print(f"run {r + 1} of {args.runs}", flush=True)
            runs.append(asyncio.run(one_run(stack, frames, args, addresses)))

    print(f"\nfailover: {args.clients} drawers at {args.fps:g} frames/s through nginx, "
          f"{args.webs} web processes, {args.workers} workers; web process 0 SIGKILLed "
          f"after {args.warmup:g} s; times from the kill, per client of the killed process")
    print(f"{'run':>4} {'on killed':>9} {'reconn.':>7} {'drawing':>7} | "
          f"{'reconnect s p50':>15} {'max':>5} | {'drawing again s p50':>19} {'p90':>5} "
          f"{'max':>5} | others late after | all late before")
    for i, r in enumerate(runs, 1):
        print(f"{i:>4} {r['on_killed']:>9} {r['reconnected']:>7} {r['drawing_again']:>7} | "
              f"{pct(r['reconnect_s'], 50):>15} {pct(r['reconnect_s'], 100):>5} | "
              f"{pct(r['drawing_again_s'], 50):>19} {pct(r['drawing_again_s'], 90):>5} "
              f"{pct(r['drawing_again_s'], 100):>5} | {r['others_late']:>5} of "
              f"{r['others_sent']:<5} | {r['all_late_before']} of {r['all_sent_before']}")
    again = [t for r in runs for t in r["drawing_again_s"]]
    moved = sum(r["on_killed"] for r in runs)
    ok = sum(1 for t in again if t <= TARGET_S)
    print(f"all runs: {len(again)} of {moved} clients of the killed process drawing again; "
          f"{ok} within {TARGET_S:g} s; max {pct(again, 100)} s, p50 {pct(again, 50)} s")
    return 0 if moved and ok == moved else 1


if __name__ == "__main__":
    sys.exit(main())
