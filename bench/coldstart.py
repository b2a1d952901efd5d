"""Cold-start benchmark: from starting a worker process to its first answered prediction.

The worker starts with an EMPTY local cache and a store given as a URL (file://, which the
store treats like s3:// or gs://: the active version is downloaded first), as a fresh cloud
machine would. A web server is already up; we start the worker and post a prediction at once.

    python bench/coldstart.py [--runs 3]
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

import requests

from cli.embedded_redis import RedisServer
from devtools.stack import start_role, start_stack, stop
from shared.model_store import ModelStore


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--runs", type=int, default=3)
    args = ap.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="digitflow-cold-"))
    store_url = f"file://{tmp / 'store'}"
    ModelStore(store_url).ensure_seeded()
    pixels = [[0] * 28 for _ in range(28)]
    for r in range(6, 22):
        pixels[r][13] = pixels[r][14] = 255
    redis = RedisServer(data_dir=tmp / "redis").start()
    stack = start_stack(redis.url, tmp, workers=0, MODEL_STORE=store_url)
    times = []
    try:
        stack.wait_ready(workers=0)
        for run in range(args.runs):
            cache = tmp / f"cache{run}"
            env = {**stack.env, "MODEL_CACHE": str(cache)}
            t0 = time.perf_counter()
            proc = start_role("worker", env, stack.log_dir, "--name", f"cold{run}@bench")
            resp = requests.post(f"{stack.url}/api/predict", json={"pixels": pixels}, timeout=120)
            elapsed = time.perf_counter() - t0
            assert resp.status_code == 200, resp.text
            assert any(cache.iterdir()), "the worker did not pull the model into its cache"
            times.append(elapsed)
            print(f"run {run + 1}: first prediction {elapsed:.2f} s after process start "
                  f"(digit {resp.json()['digit']}, version {resp.json()['model_version']})")
            stop(proc)
    finally:
        stack.close()
        redis.stop()
        shutil.rmtree(tmp, ignore_errors=True)
    print(f"\ncold start (empty cache, store {store_url.split('://')[0]}://): "
          f"median {sorted(times)[len(times) // 2]:.2f} s, best {min(times):.2f} s")
    return 0


if __name__ == "__main__":
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    sys.exit(main())
