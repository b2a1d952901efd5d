"""Recovery benchmark: SIGKILL Redis in the middle of a batch, restart it, time the way back.

Starts `digitflow up` (one inference worker, the trainer, the web server) against a
redis-server this script owns (password, append-only file), exactly as an operator would run it
against an external Redis. Then, `--runs` times:

1. queue a batch of `--n` MNIST test images and connect a live drawer (a real Socket.IO client);
2. once the batch is under way, SIGKILL Redis, wait `--down` seconds, restart it on the same
   port with the same data directory;
3. from the moment the new Redis answers PING, time the first 200 from `POST /api/predict`
   and the first live `prediction` answering a frame drawn after the restart;
4. wait for the batch to finish and count the items lost (index missing) or duplicated.

    python bench/recovery.py [--runs 10] [--n 6000] [--down 3]

Target (issue 9): REST and live back within 10 s in every run, 0 items lost or duplicated.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import requests

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from cli.embedded_redis import RedisServer, free_port, redis_reachable  # noqa: E402
from devtools.sio import RecordingClient  # noqa: E402
from shared.mnist import load_mnist  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
TARGET_S = 10.0
GIVE_UP_S = 120.0


@dataclass
class RunResult:
    """One kill-and-restart: seconds from Redis back to each first answer, and batch damage."""

    rest_s: float | None
    live_s: float | None
    lost: int
    duplicated: int
    status: str


def start_up(redis_url: str, port: int, tmp: Path) -> subprocess.Popen[bytes]:
    """Run `digitflow up` against our Redis, its output in tmp/up.log."""
    env = {**os.environ, "REDIS_URL": redis_url, "MODEL_STORE": str(tmp / "models"),
           "MODEL_CACHE": str(tmp / "cache"), "PYTHONUNBUFFERED": "1",
           "PYTHONPATH": str(REPO)}
    out = open(tmp / "up.log", "ab")  # noqa: SIM115 - closed with the process
    return subprocess.Popen(
        [sys.executable, "-m", "cli.main", "up", "--port", str(port), "--workers", "1"],
        cwd=tmp, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)


def wait_healthy(url: str, up: subprocess.Popen[bytes], timeout: float = 240.0) -> None:
    """Block until /healthz says a worker is consuming; fail if `up` exits first."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if up.poll() is not None:
            raise RuntimeError(f"digitflow up exited with {up.returncode}")
        try:
            if requests.get(f"{url}/healthz", timeout=2).json().get("workers", 0) >= 1:
                return
        except (requests.RequestException, ValueError):
            pass
        time.sleep(0.5)
    raise TimeoutError("the system did not become healthy")


def first_rest_answer(url: str, pixels: list, since: float) -> float | None:
    """Seconds from `since` to the first 200 from /api/predict, retrying with short timeouts."""
    while time.monotonic() - since < GIVE_UP_S:
        try:
            resp = requests.post(f"{url}/api/predict", json={"pixels": pixels}, timeout=5)
            if resp.status_code == 200 and "digit" in resp.json():
                return time.monotonic() - since
        except (requests.RequestException, ValueError):
            pass
        time.sleep(0.1)
    return None


def first_live_answer(drawer: RecordingClient, pixels: list, seq0: int,
                      since: float) -> float | None:
    """Seconds from `since` to the first `prediction` for a frame drawn after `since`."""
    seq = seq0
    while time.monotonic() - since < GIVE_UP_S:
        seq += 1
        try:
            drawer.draw(pixels, seq)
            drawer.wait_for("prediction", lambda d: d.get("seq", -1) >= seq0, timeout=0.5)
            return time.monotonic() - since
        except TimeoutError:
            continue
        except Exception:  # the socket is reconnecting: try again
            time.sleep(0.2)
    return None


def wait_batch(url: str, batch_id: str, timeout: float = 600.0) -> dict:
    """Poll the batch until it is done (or failed) and return its full view."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            view = requests.get(f"{url}/api/batches/{batch_id}?results=0", timeout=10).json()
            if view.get("status") in ("done", "failed"):
                break
        except (requests.RequestException, ValueError):
            pass
        time.sleep(0.5)
    return requests.get(f"{url}/api/batches/{batch_id}", timeout=60).json()


def one_run(url: str, redis: RedisServer, body: str, n: int, pixels: list, down_s: float,
            run: int) -> RunResult:
    """Queue a batch, kill Redis under it, restart it and measure the way back."""
    drawer = RecordingClient(url)
    try:
        drawer.draw(pixels, 1)
        drawer.wait_for("prediction", lambda d: d.get("seq") == 1, timeout=30)
        resp = requests.post(f"{url}/api/batches", data=body, timeout=300,
                             headers={"Content-Type": "application/json"})
        resp.raise_for_status()
        batch_id = resp.json()["batch_id"]
        while requests.get(f"{url}/api/batches/{batch_id}?results=0",
                           timeout=10).json().get("done", 0) < n // 10:
            time.sleep(0.05)
        os.kill(redis.pid or 0, signal.SIGKILL)
        redis.wait_exit()
        time.sleep(down_s)
        redis.start()
        back = time.monotonic()
        live: list[float | None] = []
        live_thread = threading.Thread(
            target=lambda: live.append(first_live_answer(drawer, pixels, 1000 * run, back)))
        live_thread.start()
        rest_s = first_rest_answer(url, pixels, back)
        live_thread.join()
        view = wait_batch(url, batch_id)
    finally:
        drawer.close()
    counts = Counter(r["index"] for r in view.get("results", []))
    lost = sum(1 for i in range(n) if i not in counts)
    duplicated = sum(c - 1 for c in counts.values() if c > 1)
    return RunResult(rest_s, live[0], lost, duplicated, str(view.get("status")))


def _fmt(x: float | None) -> str:
    return f"{x:6.2f}" if x is not None else " never"


def summarise(rows: list[RunResult]) -> None:
    """Print the per-run table's summary line and the target verdict."""
    for name in ("rest_s", "live_s"):
        got = [getattr(r, name) for r in rows if getattr(r, name) is not None]
        within = sum(1 for x in got if x <= TARGET_S)
        stats = (f"median {statistics.median(got):.2f} s, max {max(got):.2f} s"
                 if got else "no answer in any run")
        print(f"{name[:-2]:>5}: {stats}; <= {TARGET_S:.0f} s in {within} of {len(rows)} runs")
    print(f"items lost {sum(r.lost for r in rows)}, duplicated "
          f"{sum(r.duplicated for r in rows)}, batches done "
          f"{sum(r.status == 'done' for r in rows)} of {len(rows)}")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--runs", type=int, default=10, help="kill-and-restart runs (default 10)")
    ap.add_argument("--n", type=int, default=6000, help="images per batch (default 6000)")
    ap.add_argument("--down", type=float, default=3.0, help="seconds Redis stays dead (3)")
    ap.add_argument("--data", default=os.environ.get("MNIST_DIR", "../shared/data/mnist"))
    ap.add_argument("--keep", help="keep logs and data in this folder (default: a temp dir)")
    args = ap.parse_args()

    test = load_mnist("test", args.data)
    body = json.dumps({"images": [{"pixels": img.tolist()} for img in test.images[: args.n]]})
    pixels = test.images[0].tolist()
    tmp = Path(args.keep or tempfile.mkdtemp(prefix="digitflow-recovery-")).absolute()
    tmp.mkdir(parents=True, exist_ok=True)
    redis = RedisServer(data_dir=tmp / "redis").start()
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    up = start_up(redis.url, port, tmp)
    rows: list[RunResult] = []
    try:
        wait_healthy(url, up)
        print(f"{'run':>3} {'rest_s':>7} {'live_s':>7} {'lost':>5} {'dup':>4} status")
        for run in range(1, args.runs + 1):
            row = one_run(url, redis, body, args.n, pixels, args.down, run)
            rows.append(row)
            print(f"{run:>3} {_fmt(row.rest_s)} {_fmt(row.live_s)} {row.lost:>5} "
                  f"{row.duplicated:>4} {row.status}", flush=True)
            if up.poll() is not None:
                print(f"digitflow up exited with {up.returncode}; see {tmp}/up.log")
                break
        summarise(rows)
    finally:
        if up.poll() is None:
            up.send_signal(signal.SIGINT)
            try:
                up.wait(60)
            except subprocess.TimeoutExpired:
                os.killpg(up.pid, signal.SIGKILL)
                up.wait()
        redis.stop()
        assert not redis_reachable(redis.url, timeout=0.2)
    print(f"logs: {tmp}")
    ok = len(rows) == args.runs and all(
        r.rest_s is not None and r.rest_s <= TARGET_S and r.live_s is not None
        and r.live_s <= TARGET_S and r.lost == 0 and r.duplicated == 0 for r in rows)
    return 0 if ok else 1


if __name__ == "__main__":
    code = main()
    sys.stdout.flush()
    # After a Ctrl-C mid-run a Socket.IO client thread can be left waiting on a dead socket;
    # everything we started is already stopped, so do not wait for it at interpreter exit.
    os._exit(code)
