"""Live-drawing benchmark: asyncio Socket.IO clients that draw what the page draws.

Each drawer is a python-socketio AsyncClient that draws a frame every 1/--fps s (10/s, like
the page's 100 ms throttle) and, as the page does, keeps one frame in flight: a frame drawn
before the answer came waits, replaced by newer ones (--ungated sends every frame at once). A
frame is what webapp/static/draw/live.js sends: a FRAME x FRAME canvas (112x112) of an MNIST
test digit, by default in the page's encoding (a PNG data URL); `--encoding pixels` sends the
12,544-number JSON array the page sent before. Latency is measured from when the frame was
drawn to the `prediction` for that seq. All clients share one asyncio loop, so thousands of
connections need no thread each. Clients spread over loopback source addresses (127.0.x.y,
--per-address connections each), as many users would, so a per-address connection cap does
not refuse the benchmark itself.

Runs (all in one system, so every ratio below is measured in the same conditions):
  plain     each level of --clients alone: sent/answered/coalesced/late, p50/p95/p99, and
            the largest level whose p99 <= 100 ms ("drawers at p99 <= 100 ms").
  --batch N the --batch-clients drawer(s) alone, then while an N-image JSON batch (MNIST
            28x28 pixels, POST /api/batches) is uploaded and processed; the ratio of the two
            p99s, frames late (no answer within 2 s), and the batch's images/s.
  --idle N  N idle connections (websocket transport) are opened and held while
            --idle-clients drawers draw; reports how many connections were held, the
            drawers' p99 vs their p99 with no idle connections, and /healthz p50/p99 polled
            every 100 ms meanwhile (and in the plain run, for comparison).
  --web N   N web processes behind a real nginx (deploy/nginx.conf on loopback, devtools/
            nginx.py), --workers workers (default N). Each level of --clients runs first
            against one of the web processes directly, then through nginx (spread over all
            N), --rounds times alternately; prints the comparison row: pooled p99 through
            nginx vs one web process, and frames lost (no answer within 2 s) in each.
  --heavy R one client streams the largest accepted image (a 4096x4096 RGBA PNG as a data
            URL) R times per second while a drawer draws; the drawer's p99 vs alone, the
            peak RSS growth of the web and worker processes, and one such image through
            POST /api/predict vs a 280x280 canvas PNG (time ratio).

For every run it prints the CPU seconds each process used (web server, workers, Redis, this
benchmark client; psutil, whole process trees) per answered frame, in ms.

"late" = frames with no answer within 2 s. "coalesced" = frames skipped because a newer frame
of the same client replaced them (by design): held back by the client, or by the web's gate
(read from Redis).

    python bench/live.py                                 # 1, 10, 50 drawers, 1 worker
    python bench/live.py --clients 1 --batch 20000       # live alone vs during a batch
    python bench/live.py --clients 10 --idle 2000        # 2,000 idle connections
    python bench/live.py --clients 10,20,40,80           # drawers at p99 <= 100 ms
    python bench/live.py --clients 1 --heavy 10          # a client streaming 4096^2 PNGs
    python bench/live.py --web 2 --clients 50            # 1 web process vs nginx + 2

It starts its own throwaway system (embedded Redis, --workers workers, web server) on free
ports and stops it at the end; --url/--redis measure a running system instead (then only the
client's and Redis's CPU can be attributed). The machine's other load shows in every figure:
compare ratios within one run, or two runs side by side.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import contextlib
import io
import json
import os
import resource
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image, ImageDraw

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import aiohttp
import psutil
import redis
import requests
import socketio

from devtools.batches import wait_batch_done
from devtools.sio import connect_websocket_first_async
from shared.mnist import load_mnist
from shared.redis_keys import COALESCED_COUNTER

FRAME = 112  # FRAME_SIZE in webapp/static/draw/canvas.js
LATE_S = 2.0
IN_FLIGHT_TIMEOUT_S = 2.0  # the page's IN_FLIGHT_TIMEOUT_MS
P99_TARGET_MS = 100.0
ENCODINGS = ("image", "pixels")  # the page's (a PNG data URL), then the contract's JSON array
CONNECT_TIMEOUT_S = 20.0


# ---------------------------------------------------------------- frames
def page_frames(images: np.ndarray, n: int) -> list[np.ndarray]:
    """MNIST digits upscaled to the page's frame size, smoothed like a canvas downsample."""
    return [np.asarray(Image.fromarray(img).resize((FRAME, FRAME), Image.Resampling.BILINEAR))
            for img in images[:n]]


def encode_frame(u8: np.ndarray, encoding: str) -> dict[str, Any]:
    """The `draw` payload (without seq) for this frame: as the page sends it (`image`, an
    opaque RGBA PNG, what canvas.toDataURL gives), or as a JSON array (`pixels`)."""
    if encoding == "pixels":
        return {"pixels": u8.tolist()}
    if encoding == "image":
        return {"image": png_data_url(Image.fromarray(u8).convert("RGBA"))}
    raise ValueError(encoding)


def png_data_url(img: Image.Image, optimize: bool = False) -> str:
    buf = io.BytesIO()
    img.save(buf, format="PNG", optimize=optimize)
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode()


def heavy_png(side: int = 4096) -> str:
    """The largest accepted image: 4096x4096 RGBA, a digit stroked on transparency (~70 KB)."""
    img = Image.new("RGBA", (side, side), (0, 0, 0, 0))
    d = ImageDraw.Draw(img)
    w = side // 12
    d.line([(side * 0.25, side * 0.2), (side * 0.75, side * 0.2), (side * 0.4, side * 0.85)],
           fill=(0, 0, 0, 255), width=w, joint="curve")
    return png_data_url(img, optimize=True)


def canvas_png(side: int = 280) -> str:
    """A 280x280 canvas PNG as a browser would export it: white strokes on black."""
    img = Image.new("L", (side, side), 0)
    d = ImageDraw.Draw(img)
    d.line([(70, 56), (210, 56), (112, 238)], fill=255, width=side // 13, joint="curve")
    return png_data_url(img)


# ---------------------------------------------------------------- processes and CPU
@dataclass
class Procs:
    """Process-tree roots per role, for CPU and RSS accounting."""

    roles: dict[str, list[int]]

    def _tree(self, pid: int) -> list[psutil.Process]:
        """The process and its descendants (not for this client: they are the system)."""
        try:
            p = psutil.Process(pid)
            return [p] if pid == os.getpid() else [p, *p.children(recursive=True)]
        except psutil.NoSuchProcess:
            return []

    def cpu(self) -> dict[str, float]:
        out: dict[str, float] = {}
        for role, pids in self.roles.items():
            total = 0.0
            for pid in pids:
                for p in self._tree(pid):
                    with contextlib.suppress(psutil.NoSuchProcess):
                        t = p.cpu_times()
                        total += t.user + t.system
            out[role] = total
        return out

    def rss_mb(self, role: str) -> float:
        total = 0
        for pid in self.roles.get(role, []):
            for p in self._tree(pid):
                with contextlib.suppress(psutil.NoSuchProcess):
                    total += p.memory_info().rss
        return total / 2**20


def cpu_per_frame(before: dict[str, float], after: dict[str, float], answered: int
                  ) -> dict[str, float]:
    """CPU ms per answered frame, per role and in total."""
    out = {role: (after[role] - before[role]) * 1000 / max(answered, 1) for role in before}
    out["total"] = sum(out.values())
    return out


def redis_pid(url: str) -> int | None:
    """A local Redis's pid, from INFO (works for a system we did not start too)."""
    try:
        pid = int(redis.Redis.from_url(url).info("server")["process_id"])
        psutil.Process(pid)
        return pid
    except Exception:
        return None


# ---------------------------------------------------------------- clients
class Addresses:
    """Loopback source addresses, at most `per_address` connections each."""

    def __init__(self, per_address: int) -> None:
        self.per, self.n = per_address, 0

    def next(self) -> str:
        i = self.n // self.per
        self.n += 1
        return f"127.0.{1 + i // 250}.{1 + i % 250}"


async def open_client(url: str, addr: str, transports: list[str] | None = None
                      ) -> socketio.AsyncClient:
    """Connect one Socket.IO client from source address `addr`: websocket first, as the page
    does, unless `transports` are given."""
    session = aiohttp.ClientSession(connector=aiohttp.TCPConnector(local_addr=(addr, 0)),
                                    timeout=aiohttp.ClientTimeout(total=None, connect=15))
    sio = socketio.AsyncClient(reconnection=False, http_session=session)
    sio.bench_session = session  # type: ignore[attr-defined]
    try:
        connecting = (sio.connect(url, transports=transports, wait_timeout=CONNECT_TIMEOUT_S)
                      if transports else
                      connect_websocket_first_async(sio, url, wait_timeout=CONNECT_TIMEOUT_S))
        await asyncio.wait_for(connecting, CONNECT_TIMEOUT_S + 5)
    except BaseException:
        await close_client(sio)
        raise
    return sio


async def close_client(sio: socketio.AsyncClient) -> None:
    with contextlib.suppress(Exception):
        await asyncio.wait_for(sio.disconnect(), 5)
    with contextlib.suppress(Exception):
        await sio.bench_session.close()  # type: ignore[attr-defined]


class OneInFlight:
    """The page's flow control (webapp/static/draw/live.js), for simulated drawers: at most
    one frame in flight; a frame drawn meanwhile waits, replaced by any newer one, and goes
    when the answer comes, or when IN_FLIGHT_TIMEOUT_S passed without one (lost)."""

    def __init__(self) -> None:
        self.in_flight: int | None = None
        self.in_flight_at = 0.0
        self.parked: int | None = None
        self.held_back = 0  # frames replaced by a newer one before they were sent

    def drawn(self, seq: int, now: float) -> bool:
        """A new frame: True to send it now; else it waits (replacing the waiting one)."""
        if self.in_flight is not None and now - self.in_flight_at > IN_FLIGHT_TIMEOUT_S:
            self.in_flight = None  # its answer was lost: send again, as the page does
        if self.in_flight is None:
            return True
        self.held_back += self.parked is not None
        self.parked = seq
        return False

    def sending(self, seq: int, now: float) -> None:
        self.in_flight, self.in_flight_at = seq, now

    def answered(self, seq: Any) -> int | None:
        """An answer (or error) for `seq`: the waiting frame to send now, if any."""
        if self.in_flight is None or not isinstance(seq, int) or seq < self.in_flight:
            return None
        self.in_flight = None
        waiting, self.parked = self.parked, None
        return waiting

    def reset(self) -> None:
        """Reconnected: whatever was in flight is lost; the next frame goes at once."""
        self.in_flight = self.parked = None


class Drawer:
    """One simulated user: draws a frame every 1/`fps` s and records when each is answered.

    `gated` (the default) behaves as the page does (webapp/static/draw/live.js): at most one
    frame in flight; a frame drawn meanwhile waits, replaced by any newer one, and goes when
    the answer comes (or after IN_FLIGHT_TIMEOUT_S). Its latency counts from when it was
    drawn, not sent. Ungated, every frame is sent at once, as a careless client would.
    """

    def __init__(self, frames: list[dict[str, Any]], gated: bool = True) -> None:
        self.frames = frames
        self.gated = gated
        self.sent: dict[int, float] = {}  # seq -> when it was drawn
        self.latency_ms: dict[int, float] = {}
        self.errors: list[Any] = []
        self.sio: socketio.AsyncClient | None = None
        self.flow = OneInFlight()

    async def connect(self, url: str, addr: str) -> None:
        self.sio = await open_client(url, addr)
        self.sio.on("prediction", self._on_prediction)
        self.sio.on("error", self._on_error)

    async def _on_prediction(self, data: dict) -> None:
        seq = data.get("seq")
        if seq in self.sent and seq not in self.latency_ms:
            self.latency_ms[seq] = (time.perf_counter() - self.sent[seq]) * 1000
        await self._answered(seq)

    async def _on_error(self, data: Any) -> None:
        self.errors.append(data)
        await self._answered(data.get("seq") if isinstance(data, dict) else None)

    async def _answered(self, seq: Any) -> None:
        waiting = self.flow.answered(seq)
        if waiting is not None:
            await self._emit(waiting)

    async def _emit(self, seq: int) -> None:
        assert self.sio is not None
        if self.gated:
            self.flow.sending(seq, time.perf_counter())
        try:
            await self.sio.emit("draw", {**self.frames[seq % len(self.frames)], "seq": seq})
        except Exception as exc:
            self.errors.append(repr(exc))

    async def draw(self, start_at: float, until: float, fps: float,
                   stop: asyncio.Event | None = None) -> None:
        assert self.sio is not None
        period, seq = 1.0 / fps, len(self.sent)
        next_t = start_at
        while next_t < until and not (stop and stop.is_set()):
            await asyncio.sleep(max(0.0, next_t - time.perf_counter()))
            seq += 1
            self.sent[seq] = time.perf_counter()
            if self.flow.drawn(seq, self.sent[seq]):
                await self._emit(seq)
                if not self.sio.connected:
                    return
            next_t += period


def upload_batch(url: str, pixels: list[list[list[int]]], n_images: int) -> dict[str, Any]:
    """POST an n_images JSON batch and poll it to the end (in its own process); the times
    are `time.perf_counter()`, which is system-wide (CLOCK_MONOTONIC) on Linux."""
    out: dict[str, Any] = {}
    try:
        body = json.dumps({"images": [{"pixels": pixels[i % len(pixels)]}
                                      for i in range(n_images)]}).encode()
        out["t_post"] = time.perf_counter()
        resp = requests.post(f"{url}/api/batches", data=body, timeout=600,
                             headers={"Content-Type": "application/json"})
        out["t_accepted"] = time.perf_counter()
        out["status_code"] = resp.status_code
        view = wait_batch_done(url, resp.json()["batch_id"])
        out["t_done"] = time.perf_counter()
        out["status"] = view["status"]
        out["server_s"] = view.get("finished", 0) - view.get("created", 0)
    except Exception as exc:
        out["failure"] = repr(exc)
    return out


def latency_stats(drawers: list[Drawer], t0: float = 0.0, t1: float = float("inf")) -> dict:
    """Latency percentiles and counts over the frames sent in [t0, t1].

    A frame is "late" when neither it nor a newer frame of the same client was answered
    within LATE_S: what the user sees is then over 2 s stale. (A frame replaced by a newer
    one, coalesced, gets no answer by design, and is late only if the newer one is.)
    """
    lat, sent, late = [], 0, 0
    for d in drawers:
        fresh_at = float("inf")  # earliest answer to this seq or a newer one
        for seq in sorted(d.sent, reverse=True):
            at = d.sent[seq]
            ms = d.latency_ms.get(seq)
            if ms is not None:
                fresh_at = min(fresh_at, at + ms / 1000)
            if not t0 <= at <= t1:
                continue
            sent += 1
            if fresh_at - at > LATE_S:
                late += 1
            if ms is not None:
                lat.append(ms)
    a = np.array(lat)
    pct = {f"p{q}_ms": float(np.percentile(a, q)) if a.size else None for q in (50, 95, 99)}
    return {"sent": sent, "answered": int(a.size), "late": late,
            "held_back": sum(d.flow.held_back for d in drawers),
            "max_ms": float(a.max()) if a.size else None,
            "errors": sum(len(d.errors) for d in drawers), **pct}


# ---------------------------------------------------------------- the system under test
@dataclass
class System:
    url: str  # nginx's when there are several web processes
    redis_url: str
    procs: Procs
    direct_url: str | None = None  # one web process, not through nginx (with --web)
    r: redis.Redis = field(init=False)

    def __post_init__(self) -> None:
        self.r = redis.Redis.from_url(self.redis_url)

    def coalesced(self) -> int:
        return int(self.r.get(COALESCED_COUNTER) or 0)


@contextlib.contextmanager
def own_system(workers: int, env: dict[str, str], webs: int = 1,
               split: bool = True) -> Iterator[System]:
    """A private system on free ports (devtools.stack), with each role's pid for accounting;
    with `webs` > 1, nginx in front of the web processes. `split` (the default) starts
    workers as `digitflow up` does: a live one and a niced batch one per slot."""
    from devtools.stack import running_system

    with running_system(workers=workers, webs=webs, nginx=webs > 1, split=split,
                        **env) as stack:
        roles = {"web": [w.pid for w in stack.webs], "worker": [w.pid for w in stack.workers],
                 "redis": [redis_pid(stack.redis_url)], "client": [os.getpid()]}
        if stack.nginx is not None and stack.nginx.proc is not None:
            roles["nginx"] = [stack.nginx.proc.pid]
        print(f"system up: {stack.url} (logs in {stack.log_dir})", flush=True)
        yield System(stack.url, stack.redis_url, Procs(roles),
                     direct_url=stack.web_urls[0] if webs > 1 else None)


# ---------------------------------------------------------------- runs
@dataclass
class Bench:
    system: System
    frames: list[dict[str, Any]]
    fps: float
    duration: float
    addresses: Addresses
    gated: bool = True  # drawers keep one frame in flight, as the page does

    async def drawers(self, n: int, url: str | None = None) -> list[Drawer]:
        ds = [Drawer(self.frames[i::n] or self.frames, self.gated) for i in range(n)]
        sem = asyncio.Semaphore(50)

        async def connect(d: Drawer) -> None:
            async with sem:
                await d.connect(url or self.system.url, self.addresses.next())

        await asyncio.gather(*(connect(d) for d in ds))
        return ds

    async def draw(self, ds: list[Drawer], duration: float,
                   stop: asyncio.Event | None = None) -> tuple[float, float]:
        """All drawers draw (staggered over one period); returns the sending window."""
        start = time.perf_counter() + 0.3
        until = start + duration
        await asyncio.gather(*(d.draw(start + i / self.fps / len(ds), until, self.fps, stop)
                               for i, d in enumerate(ds)))
        end = time.perf_counter()
        await asyncio.sleep(LATE_S + 0.5)  # let the last answers arrive
        return start, end

    async def measured(self, coro: Any, answered_of: Any) -> tuple[Any, dict[str, float]]:
        """Run `coro`, returning its result and CPU ms per answered frame per role."""
        cpu0, co0 = self.system.procs.cpu(), self.system.coalesced()
        result = await coro
        cpu = cpu_per_frame(cpu0, self.system.procs.cpu(), answered_of(result))
        # frames the server replaced, plus those the gated clients never sent
        result["coalesced"] = self.system.coalesced() - co0 + result.get("held_back", 0)
        return result, cpu

    async def run_and_close(self, coro: Any, drawers: list[Drawer]) -> dict:
        """`measured` for a run of drawers: its row with CPU per frame; then disconnect them."""
        res, cpu = await self.measured(coro, lambda r: r["answered"])
        for d in drawers:
            await close_client(d.sio)
        return {**res, "cpu_ms_per_frame": cpu}

    async def plain(self, n: int, healthz: bool = False) -> dict:
        """n drawers alone."""
        ds = await self.drawers(n)

        async def go() -> dict:
            probe = HealthProbe(self.system.url) if healthz else None
            if probe:
                probe.start()
            await self.draw(ds, self.duration)
            out = {"clients": n, **latency_stats(ds)}
            if probe:
                out["healthz"] = await probe.stop()
            return out

        return await self.run_and_close(go(), ds)

    async def compare_web(self, n: int, rounds: int) -> dict:
        """n drawers on one web process directly, then through nginx in front of all of
        them, `rounds` times alternately; rows per round and pooled over the rounds."""
        assert self.system.direct_url is not None
        targets = {"1 web": self.system.direct_url, "nginx": self.system.url}
        pooled: dict[str, list[Drawer]] = {name: [] for name in targets}
        rows: list[dict] = []
        warm = await self.drawers(n)  # workers' first forward passes, not measured
        await self.draw(warm, 3.0)
        for d in warm:
            await close_client(d.sio)
        for r in range(rounds):
            order = list(targets.items())
            for name, url in order if r % 2 == 0 else order[::-1]:  # ABBA: cancels a drift
                print(f"run: {n} drawer(s), {name} (round {r + 1} of {rounds})", flush=True)
                ds = await self.drawers(n, url)

                async def go(ds: list[Drawer] = ds) -> dict:
                    await self.draw(ds, self.duration)
                    return {"clients": n, **latency_stats(ds)}

                res, cpu = await self.measured(go(), lambda x: x["answered"])
                for d in ds:
                    await close_client(d.sio)
                pooled[name].extend(ds)
                rows.append({"run": name, **res, "cpu_ms_per_frame": cpu})
        return {"rounds": rows, "pooled": {name: {"run": name, "clients": n,
                                                  **latency_stats(ds)}
                                           for name, ds in pooled.items()}}

    async def with_batch(self, n: int, n_images: int, pixels: list[list[list[int]]]) -> dict:
        """n drawers while an n_images batch is uploaded and processed.

        The upload runs in a process of its own (`upload_batch`), as another user's would: in
        this process, encoding and sending ~50 MB held the GIL the drawers' event loop needs,
        and their answers were timed late by the benchmark itself.
        """
        ds = await self.drawers(n)
        done = asyncio.Event()
        batch: dict[str, Any] = {}

        def run_batch(loop: asyncio.AbstractEventLoop) -> None:
            import multiprocessing

            ctx = multiprocessing.get_context("spawn")
            with ctx.Pool(1) as pool:
                try:
                    batch.update(pool.apply(upload_batch, (self.system.url, pixels, n_images)))
                except Exception as exc:
                    batch["failure"] = repr(exc)
            loop.call_soon_threadsafe(done.set)

        async def go() -> dict:
            t = threading.Thread(target=run_batch, args=(asyncio.get_running_loop(),))
            t.start()
            await self.draw(ds, 600.0, stop=done)
            t.join()
            t1 = batch.get("t_done", float("inf"))
            out = {"clients": n, **latency_stats(ds, batch.get("t_post", 0.0), t1)}
            # the slowest frames, and when they were sent: during the upload or after it
            t_post = batch.get("t_post", 0.0)
            timed = sorted(((ms, d.sent[seq] - t_post) for d in ds
                            for seq, ms in d.latency_ms.items() if t_post <= d.sent[seq] <= t1),
                           reverse=True)
            out["slowest"] = timed[:5]
            out["upload_s"] = batch.get("t_accepted", t_post) - t_post
            if "t_done" in batch:
                out["batch_images"] = n_images
                out["batch_e2e_s"] = batch["t_done"] - batch["t_post"]
                out["batch_after_upload_ips"] = n_images / (batch["t_done"] - batch["t_accepted"])
                out["batch_status"] = batch["status"]
            else:
                out["batch_failure"] = batch.get("failure")
            return out

        return await self.run_and_close(go(), ds)

    async def with_idle(self, n: int, n_idle: int) -> dict:
        """n drawers (and a /healthz probe) while n_idle idle connections are held."""
        idle: list[socketio.AsyncClient] = []
        failures, consecutive = 0, 0
        sem = asyncio.Semaphore(50)
        t_open = time.perf_counter()

        async def open_one() -> None:
            nonlocal failures, consecutive
            async with sem:
                if consecutive >= 100:  # the server stopped accepting: don't wait for each
                    failures += 1
                    return
                try:
                    idle.append(await open_client(self.system.url, self.addresses.next(),
                                                  transports=["websocket"]))
                    consecutive = 0
                except Exception:
                    failures += 1
                    consecutive += 1

        await asyncio.gather(*(open_one() for _ in range(n_idle)))
        open_s = time.perf_counter() - t_open
        held = sum(1 for c in idle if c.connected)
        print(f"  idle: {held} of {n_idle} connections held ({failures} failed) "
              f"after {open_s:.1f}s", flush=True)
        try:
            res = await self.plain(n, healthz=True)
        except Exception as exc:  # e.g. the drawers cannot even connect
            res = {"clients": n, "failure": repr(exc)}
        res.update(idle_requested=n_idle, idle_held=held,
                   idle_still_connected=sum(1 for c in idle if c.connected),
                   idle_failed=failures, idle_open_s=open_s)
        await asyncio.gather(*(close_client(c) for c in idle))
        return res

    async def with_heavy(self, n: int, rate: float, heavy: str) -> dict:
        """n drawers while another client streams the largest image `rate` times a second."""
        ds = await self.drawers(n)
        streamer = Drawer([{"image": heavy}], gated=False)  # an abusive client
        await streamer.connect(self.system.url, self.addresses.next())
        rss0 = {r: self.system.procs.rss_mb(r) for r in ("web", "worker")}
        peak = dict(rss0)
        stop = asyncio.Event()

        async def sample() -> None:
            while not stop.is_set():
                for r in peak:
                    peak[r] = max(peak[r], self.system.procs.rss_mb(r))
                await asyncio.sleep(0.05)

        async def go() -> dict:
            sampler = asyncio.create_task(sample())
            start = time.perf_counter() + 0.3
            until = start + self.duration
            await asyncio.gather(streamer.draw(start, until, rate),
                                 self.draw(ds, self.duration))
            stop.set()
            await sampler
            return {"clients": n, **latency_stats(ds), "heavy_rate": rate,
                    "heavy": latency_stats([streamer]),
                    "rss_growth_mb": {r: peak[r] - rss0[r] for r in peak}}

        return await self.run_and_close(go(), [*ds, streamer])


class HealthProbe:
    """GET /healthz every 100 ms; latencies (a timeout counts as 15 s)."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.ms: list[float] = []
        self.failures = 0
        self._stop = asyncio.Event()
        self._task: asyncio.Task | None = None

    def start(self) -> None:
        self._task = asyncio.create_task(self._run())

    async def _run(self) -> None:
        conn = aiohttp.TCPConnector(local_addr=("127.0.0.250", 0))
        async with aiohttp.ClientSession(connector=conn) as s:
            while not self._stop.is_set():
                t = time.perf_counter()
                try:
                    async with s.get(f"{self.url}/healthz",
                                     timeout=aiohttp.ClientTimeout(total=15)) as resp:
                        await resp.read()
                        if resp.status != 200:
                            self.failures += 1
                    self.ms.append((time.perf_counter() - t) * 1000)
                except Exception:
                    self.failures += 1
                    self.ms.append(15_000.0)
                await asyncio.sleep(0.1)

    async def stop(self) -> dict:
        self._stop.set()
        if self._task:
            await self._task
        a = np.array(self.ms)
        return {"n": int(a.size), "failures": self.failures,
                "p50_ms": float(np.percentile(a, 50)) if a.size else None,
                "p99_ms": float(np.percentile(a, 99)) if a.size else None}


def single_image_costs(url: str, procs: Procs, heavy: str, canvas: str) -> dict:
    """POST /api/predict one largest image vs one 280x280 canvas: time, and the peak RSS
    growth of web and worker during that one request (the kernel's VmHWM, reset first)."""
    from devtools.memory import PeakRss

    statuses: list[int] = []

    def post(image: str) -> float:
        t = time.perf_counter()
        resp = requests.post(f"{url}/api/predict", json={"image": image}, timeout=120)
        statuses.append(resp.status_code)  # a 504 still tells how long it took
        return (time.perf_counter() - t) * 1000

    for _ in range(3):
        post(canvas)  # warm
    canvas_ms = float(np.median([post(canvas) for _ in range(10)]))
    heavy_ms, growth = [], {"web": 0.0, "worker": 0.0}
    for _ in range(3):
        peaks = {r: PeakRss(procs.roles[r][0]) for r in growth}
        for p in peaks.values():
            p.start()
        heavy_ms.append(post(heavy))
        growth = {r: max(growth[r], peaks[r].growth_mb()) for r in growth}
    ms = float(np.median(heavy_ms))
    return {"canvas_ms": canvas_ms, "heavy_ms": ms, "ratio": ms / canvas_ms,
            "statuses": sorted(set(statuses)), "rss_growth_mb": growth}


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


# ---------------------------------------------------------------- printing
def fmt(v: Any, width: int = 8) -> str:
    if v is None:
        return f"{'-':>{width}}"
    return f"{v:>{width}.1f}" if isinstance(v, float) else f"{v!s:>{width}}"


LAT_HEAD = ("clients", "sent", "answered", "coalesced", "late", "errors", "p50_ms", "p95_ms",
            "p99_ms", "max_ms")
CPU_ROLES = ("web", "nginx", "worker", "redis", "client", "total")


def print_rows(title: str, rows: list[dict]) -> None:
    print(f"\n{title}")
    print(" ".join(f"{h:>8}" for h in ("run", *LAT_HEAD)) + " | cpu ms/answered frame: "
          + " ".join(f"{r:>6}" for r in CPU_ROLES))
    for row in rows:
        cpu = row.get("cpu_ms_per_frame", {})
        print(" ".join(fmt(row.get(h)) for h in ("run", *LAT_HEAD)) + " | "
              + " " * 23 + " ".join(f"{cpu[r]:>6.2f}" if r in cpu else f"{'-':>6}"
                                    for r in CPU_ROLES))


def ratio(a: float | None, b: float | None) -> str:
    return f"{a / b:.2f}x" if a and b else "n/a"


async def run_all(args: argparse.Namespace, system: System, frames: list[dict[str, Any]],
                  pixels28: list) -> dict:
    """Every requested run, in one system."""
    bench = Bench(system, frames, args.fps, args.duration, Addresses(args.per_address),
                  gated=not args.ungated)
    levels = [int(c) for c in args.clients.split(",")]
    out: dict[str, Any] = {"plain": {}}

    async def plain(n: int) -> dict:
        if n not in out["plain"]:
            print(f"run: {n} drawer(s) alone", flush=True)
            out["plain"][n] = {"run": "alone", **await bench.plain(n, healthz=True)}
        return out["plain"][n]

    def save() -> None:  # after each run, so a later failure loses nothing
        if args.json_out:
            Path(args.json_out).write_text(json.dumps({"args": vars(args), **out}, indent=2,
                                                      default=str))

    if args.web > 1:
        out["web"] = {}
        for n in levels:
            out["web"][n] = await bench.compare_web(n, args.rounds)
            out["plain"][n] = out["web"][n]["pooled"]["nginx"]
            save()
    for n in levels:
        await plain(n)
        save()
    if args.batch:
        base = await plain(args.batch_clients)
        print(f"run: {args.batch_clients} drawer(s) during a {args.batch}-image batch", flush=True)
        out["batch"] = {"run": "batch", **await bench.with_batch(args.batch_clients, args.batch,
                                                                 pixels28)}
        out["batch"]["alone_p99_ms"] = base["p99_ms"]
        save()
    if args.idle:
        await plain(args.idle_clients)
        print(f"run: {args.idle_clients} drawers with {args.idle} idle connections", flush=True)
        out["idle"] = {"run": "idle", **await bench.with_idle(args.idle_clients, args.idle)}
        save()
    if args.heavy:
        await plain(args.heavy_clients)
        heavy = heavy_png()
        print("run: one 4096x4096 PNG vs one 280x280 canvas PNG through /api/predict",
              flush=True)
        out["single_image"] = await asyncio.to_thread(
            single_image_costs, system.url, system.procs, heavy, canvas_png())
        save()
        print(f"run: {args.heavy_clients} drawer(s) while a client streams 4096x4096 PNGs "
              f"({len(heavy) * 3 // 4 // 1024} KB) at {args.heavy:g}/s", flush=True)
        out["heavy"] = {"run": "heavy", **await bench.with_heavy(args.heavy_clients, args.heavy,
                                                                 heavy)}
        save()
    return out


def report(args: argparse.Namespace, raw_ms: float | None, res: dict) -> None:
    print(f"\nlive drawing: {args.fps:g} frames/s per drawer, {args.duration:g}s per run, "
          f"{args.workers} worker slot(s) "
          f"({'one process each' if args.one_process else 'a live + a niced batch worker each'}), "
          f"{FRAME}x{FRAME} frames as '{args.encoding}'")
    if raw_ms is not None:
        print(f"raw single-image model latency (compiled, this process): {raw_ms:.2f} ms")
    plain = [res["plain"][n] for n in sorted(res["plain"])]
    for n, cmp in sorted(res.get("web", {}).items()):
        print_rows(f"{n} drawers: one web process directly vs nginx in front of {args.web} "
                   f"(both with {args.workers} workers), each round", cmp["rounds"])
        one, lb = cmp["pooled"]["1 web"], cmp["pooled"]["nginx"]
        print_rows(f"{n} drawers, pooled over {args.rounds} round(s)", [one, lb])
        print(f"  comparison, {n} drawers: p99 through nginx + {args.web} web processes vs one "
              f"web process: {fmt(lb['p99_ms'], 0)} vs {fmt(one['p99_ms'], 0)} ms = "
              f"{ratio(lb['p99_ms'], one['p99_ms'])} (target <= 1.5x); lost (no answer within "
              f"{LATE_S:g} s): {lb['late']} vs {one['late']} of {lb['sent']} / {one['sent']}; "
              f"errors {lb['errors']} vs {one['errors']}")
    print_rows("drawers alone" + (" (through nginx)" if args.web > 1 else ""), plain)
    ok = [r["clients"] for r in plain
          if r["p99_ms"] is not None and r["p99_ms"] <= P99_TARGET_MS and r["late"] == 0]
    print(f"largest level with p99 <= {P99_TARGET_MS:g} ms and none late: "
          f"{max(ok) if ok else 'none'} drawers (levels tried: "
          f"{', '.join(str(r['clients']) for r in plain)})")
    for r in plain:
        h = r.get("healthz")
        if h:
            print(f"  /healthz during {r['clients']} drawer(s): p50 {fmt(h['p50_ms'], 0)} ms, "
                  f"p99 {fmt(h['p99_ms'], 0)} ms, {h['failures']} failed of {h['n']}")
    if "batch" in res:
        b = res["batch"]
        print_rows(f"during a {args.batch}-image batch", [b])
        print(f"  live p99 during the batch vs alone: {fmt(b['p99_ms'], 0)} vs "
              f"{fmt(b['alone_p99_ms'], 0)} ms = {ratio(b['p99_ms'], b['alone_p99_ms'])}; "
              f"{b['late']} of {b['sent']} frames late (> {LATE_S:g} s or never)")
        if "batch_e2e_s" in b:
            print(f"  batch: {b['batch_status']}, {b['batch_e2e_s']:.1f} s end to end, "
                  f"{b['batch_after_upload_ips']:.0f} images/s after the upload")
        if b.get("slowest"):
            when = ", ".join(f"{ms:.0f} ms at +{at:.1f} s" for ms, at in b["slowest"])
            print(f"  slowest frames (sent at + s from the POST; the upload took "
                  f"{b['upload_s']:.1f} s): {when}")
        else:
            print(f"  batch failed: {b.get('batch_failure')}")
    if "idle" in res:
        i = res["idle"]
        alone = res["plain"][args.idle_clients]
        print_rows(f"with {args.idle} idle connections", [i])
        print(f"  held {i['idle_held']} of {i['idle_requested']} idle connections "
              f"({i['idle_failed']} failed, opened in {i['idle_open_s']:.1f} s; "
              f"{i['idle_still_connected']} still connected at the end)")
        if "failure" in i:
            print(f"  drawers failed: {i['failure']}")
        else:
            h = i["healthz"]
            print(f"  /healthz meanwhile: p50 {fmt(h['p50_ms'], 0)} ms, p99 "
                  f"{fmt(h['p99_ms'], 0)} ms, {h['failures']} failed of {h['n']}")
            print(f"  drawers' p99 with idle vs without: {fmt(i['p99_ms'], 0)} vs "
                  f"{fmt(alone['p99_ms'], 0)} ms = {ratio(i['p99_ms'], alone['p99_ms'])}")
    if "heavy" in res:
        h = res["heavy"]
        alone = res["plain"][args.heavy_clients]
        print_rows(f"while one client streams 4096x4096 PNGs at {args.heavy:g}/s", [h])
        print(f"  other client's p99 vs alone: {fmt(h['p99_ms'], 0)} vs "
              f"{fmt(alone['p99_ms'], 0)} ms = {ratio(h['p99_ms'], alone['p99_ms'])}, "
              f"max wait {fmt(h['max_ms'], 0)} ms")
        hs = h["heavy"]
        print(f"  the streamer: {hs['answered']} of {hs['sent']} answered, "
              f"{hs['errors']} errors, p50 "
              f"{fmt(hs['p50_ms'], 0)} ms; RSS growth over the run (sampled) web "
              f"{h['rss_growth_mb']['web']:.0f} MB, worker {h['rss_growth_mb']['worker']:.0f} MB")
        s = res["single_image"]
        print(f"  one 4096x4096 PNG via /api/predict: {s['heavy_ms']:.0f} ms vs 280x280 canvas "
              f"{s['canvas_ms']:.1f} ms = {s['ratio']:.1f}x (HTTP {s['statuses']}); "
              f"peak RSS growth during one (kernel VmHWM) web "
              f"{s['rss_growth_mb']['web']:.0f} MB, worker {s['rss_growth_mb']['worker']:.0f} MB")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--url", help="measure a running system at this URL (else start one)")
    ap.add_argument("--redis", help="its REDIS_URL (coalesced counter, Redis CPU)")
    ap.add_argument("--pid", action="append", default=[], metavar="ROLE=PID",
                    help="with --url: a process (and its children) to count as ROLE (web, "
                         "worker, ...) in the CPU per frame; repeatable")
    ap.add_argument("--clients", default="1,10,50",
                    help="comma-separated drawer counts, each run alone (default 1,10,50)")
    ap.add_argument("--fps", type=float, default=10.0, help="frames/s per drawer (default 10)")
    ap.add_argument("--ungated", action="store_true",
                    help="drawers send every frame at once, not one in flight as the page "
                         "does (the page before its flow control; a careless client)")
    ap.add_argument("--duration", type=float, default=20.0, help="seconds per run (default 20)")
    ap.add_argument("--encoding", choices=ENCODINGS, default=ENCODINGS[0],
                    help="frame encoding (default: what the page sends)")
    ap.add_argument("--batch", type=int, default=0, metavar="N",
                    help="also run --batch-clients drawers during an N-image batch")
    ap.add_argument("--batch-clients", type=int, default=1, help="drawers beside the batch")
    ap.add_argument("--idle", type=int, default=0, metavar="N",
                    help="also run --idle-clients drawers while N idle connections are held")
    ap.add_argument("--idle-clients", type=int, default=10, help="drawers beside the idle ones")
    ap.add_argument("--heavy", type=float, default=0.0, metavar="R",
                    help="also run --heavy-clients drawers while one client streams "
                         "4096x4096 PNGs R times per second")
    ap.add_argument("--heavy-clients", type=int, default=1, help="drawers beside the streamer")
    ap.add_argument("--per-address", type=int, default=10,
                    help="connections per loopback source address (default 10)")
    ap.add_argument("--workers", type=int, default=None,
                    help="worker slots when starting a system (default 1, or --web's count): "
                         "a live and a niced batch worker each, as `digitflow up` runs them")
    ap.add_argument("--one-process", action="store_true",
                    help="instead, each slot is one worker serving both queues (as before)")
    ap.add_argument("--web", type=int, default=1, metavar="N",
                    help="N web processes behind nginx; compares one web process directly "
                         "with nginx in front of all N, at each --clients level")
    ap.add_argument("--rounds", type=int, default=1,
                    help="with --web: alternate one web / nginx this many times (default 1)")
    ap.add_argument("--env", action="append", default=[], metavar="KEY=VALUE",
                    help="extra environment for the system started (repeatable)")
    ap.add_argument("--no-raw", action="store_true", help="skip the in-process model latency")
    ap.add_argument("--data", default=os.environ.get("MNIST_DIR", "../shared/data/mnist"))
    ap.add_argument("--json", dest="json_out", help="also write the figures to this JSON file")
    args = ap.parse_args()
    if args.workers is None:
        args.workers = max(1, args.web)
    if args.web > 1 and args.url:
        ap.error("--web starts its own system (nginx in front of N web processes); no --url")

    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))  # children inherit it too
    test = load_mnist("test", args.data)
    frames = [encode_frame(f, args.encoding) for f in page_frames(test.images, 500)]
    pixels28 = [img.tolist() for img in test.images]
    raw_ms = None if args.no_raw else raw_model_latency_ms()

    if args.url:
        redis_url = args.redis or "redis://127.0.0.1:6379/0"
        roles = {"client": [os.getpid()]}
        if (pid := redis_pid(redis_url)) is not None:
            roles["redis"] = [pid]
        for role_pid in args.pid:
            role, _, pid_text = role_pid.partition("=")
            roles.setdefault(role, []).append(int(pid_text))
        system = System(args.url, redis_url, Procs(roles))
        res = asyncio.run(run_all(args, system, frames, pixels28))
    else:
        env = dict(kv.split("=", 1) for kv in args.env)
        with own_system(args.workers, env, webs=args.web,
                        split=not args.one_process) as system:
            res = asyncio.run(run_all(args, system, frames, pixels28))
    report(args, raw_ms, res)
    if args.json_out:
        Path(args.json_out).write_text(json.dumps({"raw_ms": raw_ms, "args": vars(args),
                                                   **res}, indent=2, default=str))
    return 0


if __name__ == "__main__":
    sys.exit(main())
