"""Hot-swap benchmark: activate a new model version under a steady prediction load.

Prints the time from the activation request until every worker has served the new version
(seen in the answers themselves), the failed-request count, and the latency around the swap.

    python bench/swap.py [--workers 2] [--clients 4] [--swaps 3]
"""

from __future__ import annotations

import argparse
import os
import sys
import threading
import time

import numpy as np
import requests

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from shared.mnist import load_mnist
from shared.model_store import BUNDLED_DIR, MODEL_FILE, ModelStore

ADMIN = {"Authorization": "Bearer test-admin-token"}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--clients", type=int, default=4, help="threads posting predictions")
    ap.add_argument("--swaps", type=int, default=3, help="activations to time")
    ap.add_argument("--data", default=os.environ.get("MNIST_DIR", "../shared/data/mnist"))
    args = ap.parse_args()
    images = load_mnist("test", args.data).images[:200]

    from devtools.stack import running_system

    with running_system(workers=args.workers) as stack:
        store = ModelStore(stack.store)
        log: list[tuple[float, int, dict]] = []
        stop = threading.Event()

        def load(k: int) -> None:
            session = requests.Session()
            i = k
            while not stop.is_set():
                t = time.perf_counter()
                try:
                    r = session.post(f"{stack.url}/api/predict",
                                     json={"pixels": images[i % 200].tolist()}, timeout=30)
                    ms = (time.perf_counter() - t) * 1e3
                    log.append((t, r.status_code, r.json() | {"ms": ms}))
                except requests.RequestException as exc:
                    log.append((t, 0, {"error": str(exc)}))
                i += args.clients

        threads = [threading.Thread(target=load, args=(k,)) for k in range(args.clients)]
        for t in threads:
            t.start()
        time.sleep(3)
        swaps = []
        for _ in range(args.swaps):
            new = store.publish(BUNDLED_DIR / MODEL_FILE, {"test_accuracy": 0.99,
                                                           "source": "bench/swap.py"})
            t_act = time.perf_counter()
            requests.post(f"{stack.url}/api/models/{new}/activate", headers=ADMIN,
                          timeout=10).raise_for_status()
            first_new: dict[str, float] = {}
            deadline = t_act + 30
            while time.perf_counter() < deadline and len(first_new) < args.workers:
                for t, code, body in list(log):
                    if t >= t_act and code == 200 and body.get("model_version") == new:
                        first_new.setdefault(body["worker"], t - t_act)
                time.sleep(0.05)
            swaps.append((new, max(first_new.values()) if len(first_new) == args.workers
                          else float("inf")))
            time.sleep(2)
        stop.set()
        for t in threads:
            t.join()

    failed = sum(1 for _, code, _ in log if code != 200)
    lat = np.array([b["ms"] for _, c, b in log if c == 200])
    print(f"\nhot swap: {args.workers} workers, {args.clients} clients posting /api/predict "
          f"non-stop, {args.swaps} activations")
    for version, secs in swaps:
        print(f"  version {version}: every worker served it {secs:.2f} s after activation")
    print(f"requests: {len(log)} total, {failed} failed")
    print(f"latency: p50 {np.percentile(lat, 50):.1f} ms, p99 {np.percentile(lat, 99):.1f} ms, "
          f"max {lat.max():.1f} ms")
    return 0 if failed == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
