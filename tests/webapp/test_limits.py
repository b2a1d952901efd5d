"""Quotas, room for new work and security headers, against real processes.

A web server with tight per-address limits on its own Redis database shows 429 +
`Retry-After` + a JSON error; a separate redis-server with a small `maxmemory` shows new
batches refused with 503 while live drawing and REST predictions still work.
"""

from __future__ import annotations

import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis
import requests
import socketio

from cli.embedded_redis import find_redis_server, free_port
from devtools.sio import RecordingClient
from devtools.stack import Stack, start_stack
from shared.mnist import load_mnist

pytestmark = pytest.mark.integration
BLANK = [[0] * 28 for _ in range(28)]


@pytest.fixture(scope="module")
def tight(redis_server, tmp_path_factory) -> Iterator[Stack]:  # type: ignore[no-untyped-def]
    """A web server (no worker needed: limits are checked before any work) with low quotas."""
    running = start_stack(
        redis_server.url.rsplit("/", 1)[0] + "/9", tmp_path_factory.mktemp("tight"), workers=0,
        RATE_LIMIT_PREDICT="3/minute", RATE_LIMIT_FEEDBACK="2/minute;3/day",
        RATE_LIMIT_BATCHES="100/minute", RATE_LIMIT_BATCH_MIB="3/hour",
        RATE_LIMIT_ADMIN="2/minute", RATE_LIMIT_SOCKET_CONNECT="2/minute",
        RATE_LIMIT_DRAW="3/second")
    try:
        running.wait_ready(workers=0, timeout=60)
        yield running
    finally:
        running.close()


def assert_429(resp: requests.Response) -> None:
    assert resp.status_code == 429, resp.text
    assert int(resp.headers["Retry-After"]) > 0
    assert "too many requests" in resp.json()["error"]


def test_predict_is_limited_per_address(tight) -> None:  # type: ignore[no-untyped-def]
    for _ in range(3):  # refused as bad input, but they count
        assert requests.post(f"{tight.url}/api/predict", json={}, timeout=10).status_code == 400
    assert_429(requests.post(f"{tight.url}/api/predict", json={}, timeout=10))


def test_feedback_has_a_rate_and_a_daily_cap(tight) -> None:  # type: ignore[no-untyped-def]
    codes = [requests.post(f"{tight.url}/api/feedback", json={"label": 1}, timeout=10)
             for _ in range(3)]
    assert [c.status_code for c in codes] == [400, 400, 429]
    assert_429(codes[-1])


def test_batches_have_a_byte_budget(tight) -> None:  # type: ignore[no-untyped-def]
    padded = {"images": [], "pad": "x" * (2 * 1024 * 1024)}  # costs 3 MiB of the budget
    first = requests.post(f"{tight.url}/api/batches", json=padded, timeout=10)
    assert first.status_code == 400  # the body is refused, the bytes still count
    assert_429(requests.post(f"{tight.url}/api/batches", json=padded, timeout=10))


def test_admin_endpoints_slow_token_guessing(tight) -> None:  # type: ignore[no-untyped-def]
    guesses = [requests.post(f"{tight.url}/api/train", headers={"Authorization": f"Bearer g{i}"},
                             timeout=10) for i in range(3)]
    assert [g.status_code for g in guesses] == [401, 401, 429]


def test_socket_connects_and_frames_are_limited(tight) -> None:  # type: ignore[no-untyped-def]
    first = RecordingClient(tight.url)  # connect 1 of 2
    try:
        for seq in range(1, 8):  # 3 frames per second per connection
            first.sio.emit("draw", {"pixels": [[0] * 7] * 7, "seq": seq})
        first.wait_for("error", lambda d: "too many frames" in d["error"])
        second = RecordingClient(tight.url)  # connect 2 of 2
        second.close()
        third = socketio.Client(reconnection=False)
        reasons: list = []
        third.on("connect_error", reasons.append)
        with pytest.raises(socketio.exceptions.ConnectionError):
            third.connect(tight.url, wait_timeout=10)
        assert "too many connections" in str(reasons)
    finally:
        first.close()


def test_pages_carry_security_headers(tight) -> None:  # type: ignore[no-untyped-def]
    for path in ("/", "/batch", "/healthz"):
        resp = requests.get(tight.url + path, timeout=10)
        csp = resp.headers["Content-Security-Policy"]
        assert "frame-ancestors 'none'" in csp
        assert "script-src 'self'" in csp and "unsafe-inline" not in csp
        assert resp.headers["X-Content-Type-Options"] == "nosniff"
    page = requests.get(tight.url + "/", timeout=10).text
    assert "<script>" not in page and "<style" not in page and " style=" not in page


def test_cross_site_writes_are_refused(tight) -> None:  # type: ignore[no-untyped-def]
    for headers in ({"Origin": "https://evil.example"}, {"Sec-Fetch-Site": "cross-site"},
                    {"Origin": "null"}):
        resp = requests.post(f"{tight.url}/api/batches", timeout=10, headers=headers,
                             files=[("images", ("x.png", b"\x89PNG", "image/png"))])
        assert resp.status_code == 403, resp.text
        assert "cross-site" in resp.json()["error"]


# ------------------------------------------------------------------ Redis near its maxmemory
@pytest.fixture(scope="module")
def small_redis(tmp_path_factory) -> Iterator[str]:  # type: ignore[no-untyped-def]
    port = free_port()
    data = Path(tmp_path_factory.mktemp("small-redis"))
    proc = subprocess.Popen([find_redis_server(), "--port", str(port), "--bind", "127.0.0.1",
                             "--save", "", "--appendonly", "no", "--dir", str(data),
                             "--maxmemory", "48mb", "--maxmemory-policy", "noeviction"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"redis://127.0.0.1:{port}/0"
    try:
        client = redis.Redis.from_url(url)
        for _ in range(100):
            try:
                client.ping()
                break
            except redis.ConnectionError:
                time.sleep(0.1)
        else:
            pytest.fail("the small redis-server never answered")
        yield url
    finally:
        proc.terminate()
        proc.wait(10)


def test_near_maxmemory_batches_get_503_and_live_drawing_still_works(  # type: ignore[no-untyped-def]
        small_redis, tmp_path, mnist_dir) -> None:
    digits = load_mnist("test", mnist_dir)
    stack = start_stack(small_redis, tmp_path, workers=1)
    filler = redis.Redis.from_url(small_redis)
    try:
        stack.wait_ready(workers=1)
        for i in range(40):  # ~40 MiB of 48: above the 80% mark
            filler.set(f"test:filler:{i}", b"x" * (1024 * 1024))
        resp = requests.post(f"{stack.url}/api/batches", json={"images": [{"pixels": BLANK}]},
                             timeout=10)
        assert resp.status_code == 503, resp.text
        assert "out of room" in resp.json()["error"] and resp.headers["Retry-After"]
        drawer = RecordingClient(stack.url)
        try:
            drawer.draw(digits.images[0].tolist(), 1)
            pred = drawer.wait_for("prediction", lambda d: d["seq"] == 1, timeout=30)
            assert pred["digit"] == int(digits.labels[0])
        finally:
            drawer.close()
        rest = requests.post(f"{stack.url}/api/predict",
                             json={"pixels": digits.images[1].tolist()}, timeout=30)
        assert rest.status_code == 200 and rest.json()["digit"] == int(digits.labels[1])
        filler.delete(*[f"test:filler:{i}" for i in range(40)])
        again = requests.post(f"{stack.url}/api/batches", json={"images": [{"pixels": BLANK}]},
                              timeout=10)
        assert again.status_code == 202, again.text
    finally:
        stack.close()
