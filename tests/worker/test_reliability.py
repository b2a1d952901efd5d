"""No lost work and zero-downtime swaps, with two real workers on a real Redis.

- SIGKILL one worker in the middle of a 2,000-image batch: the batch still finishes with
  every image classified exactly once (late acks + reject on worker loss + idempotent writes).
- Activate a new version under a steady prediction load: every request succeeds, each names
  a version, and per worker the version never goes backwards.
"""

from __future__ import annotations

import signal
import threading
import time
from collections import defaultdict

import pytest
import requests

from devtools.stack import start_stack, stop
from shared.mnist import load_mnist
from shared.model_store import BUNDLED_DIR, MODEL_FILE, ModelStore
from shared.redis_keys import worker_heartbeat_pattern

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def pair(redis_server, tmp_path_factory):  # type: ignore[no-untyped-def]
    """A separate stack (own Redis db) with two workers and a short visibility timeout."""
    url = redis_server.url.rsplit("/", 1)[0] + "/3"
    stack = start_stack(url, tmp_path_factory.mktemp("pair"), workers=2, VISIBILITY_TIMEOUT_S="8")
    try:
        stack.wait_ready(workers=2)
        yield stack
    finally:
        stack.close()


@pytest.fixture(scope="module")
def mnist_test(mnist_dir):  # type: ignore[no-untyped-def]
    return load_mnist("test", mnist_dir)


def test_sigkill_mid_batch_loses_nothing(pair, mnist_test) -> None:  # type: ignore[no-untyped-def]
    n = 2000
    items = [{"pixels": img.tolist()} for img in mnist_test.images[:n]]
    resp = requests.post(f"{pair.url}/api/batches", json={"images": items}, timeout=120)
    assert resp.status_code == 202
    batch_id = resp.json()["batch_id"]
    victim = pair.workers[0]
    stop(victim, sig=signal.SIGKILL)  # at once: its prefetched chunks are in flight
    assert victim.poll() is not None
    pair.workers.remove(victim)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        view = requests.get(f"{pair.url}/api/batches/{batch_id}", timeout=30).json()
        if view["status"] == "done":
            break
        time.sleep(0.5)
    assert view["status"] == "done", view["done"]
    indices = [r["index"] for r in view["results"]]
    assert indices == list(range(n)), "every image exactly once, in order"
    assert all("digit" in r for r in view["results"])
    labels = mnist_test.labels[:n]
    right = sum(r["digit"] == int(y) for r, y in zip(view["results"], labels, strict=True))
    assert right / n >= 0.99
    pair.start_worker("w3")  # give the pair its second worker back
    pair.wait_ready(workers=2)


def test_hot_swap_under_load_drops_nothing(pair, mnist_test) -> None:  # type: ignore[no-untyped-def]
    store = ModelStore(pair.store)
    old = store.active()
    new = store.publish(BUNDLED_DIR / MODEL_FILE, {"test_accuracy": 0.99, "source": "swap test"})
    results: list[tuple[int, int, dict]] = []  # (client, status, body); each client in order
    stop_flag = threading.Event()

    def load(k: int) -> None:
        img = mnist_test.images[k].tolist()
        while not stop_flag.is_set():
            r = requests.post(f"{pair.url}/api/predict", json={"pixels": img}, timeout=30)
            results.append((k, r.status_code, r.json()))

    threads = [threading.Thread(target=load, args=(k,)) for k in range(4)]
    for t in threads:
        t.start()
    time.sleep(1.5)
    resp = requests.post(f"{pair.url}/api/models/{new}/activate",
                         headers={"Authorization": "Bearer test-admin-token"}, timeout=10)
    assert resp.status_code == 200
    activated = time.monotonic()
    while time.monotonic() - activated < 20:
        if {w["version"] for w in _worker_versions(pair)} == {new}:
            break
        time.sleep(0.1)
    time.sleep(1.5)
    stop_flag.set()
    for t in threads:
        t.join()
    assert results and all(code == 200 for _, code, _ in results), \
        [b for _, c, b in results if c != 200][:3]
    # A client's requests are sequential, so what one worker served it is in service order:
    # there the version may only go forward.
    seen: dict[tuple[int, str], list[int]] = defaultdict(list)
    for client, _, body in results:
        assert body["model_version"] in (old, new)
        seen[(client, body["worker"])].append(body["model_version"])
    assert {w for (_, w), versions in seen.items() if new in versions} == \
        {w for _, w in seen}, "every worker served the new version"
    for (_client, worker), versions in seen.items():
        assert versions == sorted(versions), f"{worker} went back to an older version"
    store.activate(old)  # leave the pair as we found it


def _worker_versions(stack) -> list[dict]:  # type: ignore[no-untyped-def]
    import json

    import redis

    r = redis.Redis.from_url(stack.redis_url)
    return [json.loads(r.get(k)) for k in r.scan_iter(worker_heartbeat_pattern())]


def test_unauthorised_activation_is_refused(pair) -> None:  # type: ignore[no-untyped-def]
    resp = requests.post(f"{pair.url}/api/models/1/activate", timeout=10)
    assert resp.status_code == 401
    resp = requests.post(f"{pair.url}/api/models/1/activate",
                         headers={"Authorization": "Bearer wrong"}, timeout=10)
    assert resp.status_code == 401


def test_unknown_version_activation_is_404(pair) -> None:  # type: ignore[no-untyped-def]
    resp = requests.post(f"{pair.url}/api/models/999/activate",
                         headers={"Authorization": "Bearer test-admin-token"}, timeout=10)
    assert resp.status_code == 404


