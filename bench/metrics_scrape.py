"""Metrics scrape benchmark: is every expected Prometheus series there, and how long is a scrape?

Starts a throwaway system (embedded Redis, --workers workers each with its own metrics port,
the web server), drives traffic while scraping (--drawers Socket.IO clients drawing at 10
frames/s, REST predictions, a small batch, one bad frame), and scrapes the web's `/metrics`
(admin token) and every worker's metrics port --scrapes times each, as Prometheus would.
It prints the scrape time p50/p99 per target (the issue's target: <= 50 ms), the operator
status endpoint's and `/healthz`'s (a baseline: what any request costs on the machine at that
moment) p50/p99, and which expected series are present (all must be).

    python bench/metrics_scrape.py
    python bench/metrics_scrape.py --workers 2 --drawers 10 --scrapes 200
"""

from __future__ import annotations

import argparse
import sys
import threading
import time

import numpy as np
import requests
from prometheus_client.parser import text_string_to_metric_families

from cli.embedded_redis import free_port
from devtools.sio import RecordingClient
from devtools.stack import Stack, running_system
from webapp.metrics import SERIES as WEB_SERIES
from worker.metrics import SERIES as WORKER_SERIES

TOKEN = "test-admin-token"  # the token devtools/stack.py gives the system it starts
AUTH = {"Authorization": f"Bearer {TOKEN}"}


def one_digit() -> list[list[int]]:
    """A drawn "1": a thick vertical stroke on 28x28."""
    img = np.zeros((28, 28), np.uint8)
    img[4:24, 12:16] = 255
    return img.tolist()


def draw_for(url: str, seconds: float, stop: threading.Event, seq0: int) -> int:
    """One drawer at ~10 frames/s; returns the frames sent."""
    client = RecordingClient(url)
    pixels, seq = one_digit(), seq0
    try:
        client.draw([[1]], seq)  # too small: one refused frame, for the error series
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline and not stop.is_set():
            seq += 1
            client.draw(pixels, seq)
            time.sleep(0.1)
        client.wait_for("prediction", lambda d: d["seq"] == seq, timeout=30)
    finally:
        client.close()
    return seq - seq0


def rest_traffic(url: str) -> None:
    """A few REST predictions, a 404 and a small batch: REST latency by route and status."""
    with requests.Session() as s:
        for _ in range(5):
            s.post(f"{url}/api/predict", json={"pixels": one_digit()}, timeout=30)
        s.get(f"{url}/api/batches/{'0' * 32}", timeout=10)
        s.post(f"{url}/api/batches", json={"images": [{"pixels": one_digit()}] * 40}, timeout=30)
        s.get(f"{url}/healthz", timeout=10)


def time_scrapes(url: str, n: int, headers: dict[str, str] | None = None) -> tuple[list[float],
                                                                                  str]:
    """Scrape `url` n times over one keep-alive session; (times in ms, the last body)."""
    times, body = [], ""
    with requests.Session() as s:
        for _ in range(n):
            started = time.perf_counter()
            resp = s.get(url, headers=headers, timeout=10)
            times.append((time.perf_counter() - started) * 1000)
            resp.raise_for_status()
            body = resp.text
            time.sleep(0.02)
    return times, body


def present(body: str) -> set[str]:
    """The sample names in a Prometheus text body (`name` and `name{label="v"}`)."""
    found = set()
    for family in text_string_to_metric_families(body):
        for sample in family.samples:
            found.add(sample.name)
            for key, value in sample.labels.items():
                if key in ("queue", "kind"):
                    found.add(f'{sample.name}{{{key}="{value}"}}')
    return found


def start_workers(stack: Stack, n: int) -> list[int]:
    """Start n workers, each with its own metrics port; returns the ports."""
    ports = []
    base_env = dict(stack.env)
    for i in range(n):
        ports.append(free_port())
        stack.env = {**base_env, "WORKER_METRICS_PORT": str(ports[-1])}
        stack.start_worker(f"m{i + 1}")
    stack.env = base_env
    stack.wait_ready(workers=n)
    return ports


def pct(times: list[float]) -> str:
    p50, p99 = np.percentile(times, [50, 99])
    return f"p50 {p50:6.2f} ms   p99 {p99:6.2f} ms   max {max(times):6.2f} ms"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--workers", type=int, default=2, help="workers (default 2)")
    ap.add_argument("--drawers", type=int, default=5, help="drawing clients (default 5)")
    ap.add_argument("--scrapes", type=int, default=100, help="scrapes per target (default 100)")
    args = ap.parse_args()

    with running_system(workers=0, RATE_LIMIT_ADMIN_READ="1000000/minute") as stack:
        ports = start_workers(stack, args.workers)
        stop = threading.Event()
        seconds = 5 + args.scrapes * 0.05 * (1 + args.workers)
        drawers = [threading.Thread(target=draw_for, args=(stack.url, seconds, stop, i * 10**6))
                   for i in range(args.drawers)]
        for t in drawers:
            t.start()
        rest_traffic(stack.url)
        time.sleep(2)  # answers flowing before the first scrape
        results = {"web /metrics": time_scrapes(f"{stack.url}/metrics", args.scrapes, AUTH)}
        for i, port in enumerate(ports, start=1):
            results[f"worker m{i} :{port}/metrics"] = time_scrapes(
                f"http://127.0.0.1:{port}/metrics", args.scrapes)
        status_times, _ = time_scrapes(f"{stack.url}/api/admin/status", args.scrapes, AUTH)
        # the baseline: the web's cheapest endpoint (one Redis PING and SCAN), same conditions
        health_times, _ = time_scrapes(f"{stack.url}/healthz", args.scrapes)
        stop.set()
        for t in drawers:
            t.join()
        # the final look, after all traffic: every expected series present
        web_body = requests.get(f"{stack.url}/metrics", headers=AUTH, timeout=10).text
        unauth = requests.get(f"{stack.url}/metrics", timeout=10).status_code

    print(f"scrape times while {args.drawers} drawers draw, {args.scrapes} scrapes per target, "
          f"{args.workers} worker(s):")
    for name, (times, _) in results.items():
        print(f"  {name:32s} {pct(times)}   {len(results[name][1]) / 1024:.1f} KiB")
    print(f"  {'web /api/admin/status':32s} {pct(status_times)}")
    print(f"  {'web /healthz (baseline)':32s} {pct(health_times)}")
    print(f"  web /metrics without the token: HTTP {unauth}")
    missing = []
    web_found = present(web_body)
    print("web series:")
    for series in WEB_SERIES:
        ok = series in web_found
        missing += [] if ok else [series]
        print(f"  {'present' if ok else 'MISSING'}  {series}")
    for name, (_, body) in results.items():
        if not name.startswith("worker"):
            continue
        found = present(body)
        print(f"{name} series:")
        for series in WORKER_SERIES:
            ok = series in found
            missing += [] if ok else [f"{name}: {series}"]
            print(f"  {'present' if ok else 'MISSING'}  {series}")
    print(f"expected series: {'all present' if not missing else f'{len(missing)} missing'}")
    return 1 if missing else 0


if __name__ == "__main__":
    sys.exit(main())
