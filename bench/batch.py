"""Batch benchmark: the 10,000 MNIST test images through the queue with 1 and 2 workers.

For each worker count it prints images/s end to end (client POST until the client sees the
batch done), images/s through the queue (server clock: batch recorded, before the first chunk
is queued, until the last result is written), and the accuracy of the returned results.
In the same run it measures raw in-process inference of the same model: the forward pass
alone (one pass at a time on every core, as a single caller runs it; and as many one-thread
passes side by side as the worker runs bulk lanes; each the best of 3 runs), and
preprocessing + forward pass (the work a worker does per image).

    python bench/batch.py [--workers 1,2] [--n 10000]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import requests

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from devtools.batches import wait_batch_done
from shared.mnist import load_mnist


def best_rate(run: Callable[[], object], n: int, repeats: int = 3) -> float:
    """Images/s of the fastest of `repeats` runs: the raw model at its best, which these
    shared machines reach only now and then, so a ratio against it is never flattered."""
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        run()
        times.append(time.perf_counter() - t)
    return n / min(times)


def raw_in_process(images: np.ndarray, batch: int = 256) -> tuple[float, float, float]:
    """(forward-only images/s, the same in side-by-side one-thread lanes, preprocess+forward
    images/s) in this process."""
    from concurrent.futures import ThreadPoolExecutor

    from shared.classifier import Classifier
    from shared.model_store import BUNDLED_DIR
    from shared.preprocess import to_mnist_batch
    from shared.settings import Settings
    from worker.runtime import bulk_lanes

    clf = Classifier(BUNDLED_DIR)
    digits, _ = to_mnist_batch(images.astype(np.float32))
    clf.predict(digits[:batch])  # warm up
    passes = [digits[s : s + batch] for s in range(0, len(digits), batch)]
    forward = best_rate(lambda: [clf.predict(d) for d in passes], len(images))
    with ThreadPoolExecutor(bulk_lanes(Settings())) as lanes:
        in_lanes = best_rate(lambda: list(lanes.map(
            lambda d: clf.score(d, single_thread=True), passes)), len(images))
    t = time.perf_counter()
    for s in range(0, len(images), batch):
        d, _ = to_mnist_batch(images[s : s + batch].astype(np.float32))
        clf.predict(d)
    full = len(images) / (time.perf_counter() - t)
    return forward, in_lanes, full


def through_queue(url: str, images: np.ndarray, labels: np.ndarray) -> dict:
    """Submit one batch and follow it to the end."""
    body = json.dumps({"images": [{"pixels": img.tolist()} for img in images]})
    t0 = time.perf_counter()
    resp = requests.post(f"{url}/api/batches", data=body,
                         headers={"Content-Type": "application/json"}, timeout=600)
    resp.raise_for_status()
    accepted = time.perf_counter()
    batch_id = resp.json()["batch_id"]
    view = wait_batch_done(url, batch_id, poll_s=0.05)
    done = time.perf_counter()
    final = requests.get(f"{url}/api/batches/{batch_id}", timeout=60).json()
    results = final["results"]
    # the server's own clock: from the batch record (after parsing and checking every item,
    # before the first chunk is queued) to the last result written
    queue_s = final["finished"] - final["created"]
    right = sum(r.get("digit") == int(y) for r, y in zip(results, labels, strict=True))
    return {"n": len(images), "e2e_s": done - t0, "post_s": accepted - t0,
            "e2e_ips": len(images) / (done - t0), "queue_s": queue_s,
            "queue_ips": len(images) / queue_s,
            "accuracy": right / len(images), "status": view["status"]}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--workers", default="1,2", help="comma-separated worker counts")
    ap.add_argument("--n", type=int, default=10_000, help="images (default: the test set)")
    ap.add_argument("--data", default=os.environ.get("MNIST_DIR", "../shared/data/mnist"))
    ap.add_argument("--json", dest="json_out", help="also write the figures to this JSON file")
    args = ap.parse_args()

    test = load_mnist("test", args.data)
    images, labels = test.images[: args.n], test.labels[: args.n]
    forward_ips, lanes_ips, full_ips = raw_in_process(images)

    from devtools.stack import running_system
    from shared.settings import Settings

    rows = []
    for w in (int(x) for x in args.workers.split(",")):
        with running_system(workers=w) as stack:
            through_queue(stack.url, images[:512], labels[:512])  # warm-up
            rows.append({"workers": w, **through_queue(stack.url, images, labels)})

    chunk = Settings().batch_chunk_size  # what the started system uses (BATCH_CHUNK_SIZE)
    print(f"\nbatch of {len(images)} MNIST test images (JSON pixels), chunks of {chunk}")
    print(f"raw in-process, forward pass only:      {forward_ips:9.0f} images/s  (fwd)")
    print(f"  the same, one-thread passes in lanes:  {lanes_ips:9.0f} images/s  (lanes)")
    print(f"raw in-process, preprocess + forward:   {full_ips:9.0f} images/s  (full)")
    print(f"{'workers':>7} {'post_s':>7} {'e2e_s':>7} {'e2e img/s':>10} {'queue img/s':>12} "
          f"{'vs fwd':>7} {'vs lanes':>9} {'vs full':>8} {'accuracy':>9}")
    for r in rows:
        print(f"{r['workers']:>7} {r['post_s']:>7.2f} {r['e2e_s']:>7.2f} {r['e2e_ips']:>10.0f} "
              f"{r['queue_ips']:>12.0f} {r['queue_ips'] / forward_ips:>7.0%} "
              f"{r['queue_ips'] / lanes_ips:>9.0%} {r['queue_ips'] / full_ips:>8.0%} "
              f"{r['accuracy']:>9.2%}")
    if args.json_out:
        Path(args.json_out).write_text(json.dumps(
            {"forward_ips": forward_ips, "lanes_ips": lanes_ips, "full_ips": full_ips,
             "rows": rows}, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
