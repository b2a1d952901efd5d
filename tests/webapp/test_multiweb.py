"""Several web processes behind a real nginx (issue 11): 2 `digitflow web` processes, 2 Celery
workers, one Redis, deploy/nginx.conf on loopback, real Socket.IO clients.

One stack for the module (own Redis: Socket.IO's pub/sub channel is server-wide, so a shared
Redis would mix this stack's broadcasts with the session stack's). The kill test runs last.
"""

from __future__ import annotations

import re
import signal
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
import requests

from cli.embedded_redis import RedisServer
from devtools.nginx import Nginx
from devtools.sio import RecordingClient
from devtools.stack import Stack, start_stack, stop
from shared.mnist import load_mnist
from shared.model_store import BUNDLED_DIR, MODEL_FILE, ModelStore
from tests.webapp.test_page_browser import DIGITS, draw, expect

pytestmark = pytest.mark.integration
ADMIN = {"Authorization": "Bearer test-admin-token"}
CLIENTS = 6
UPSTREAM = re.compile(r'"GET /socket\.io/\?[^"]*transport=websocket[^"]*" 101 .* upstream=(\S+) ')


@pytest.fixture(scope="module")
def multi(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    tmp = tmp_path_factory.mktemp("multiweb")
    redis = RedisServer(data_dir=tmp / "redis").start()
    try:
        stack = start_stack(redis.url, tmp, workers=2, webs=2, nginx=True)
        try:
            stack.wait_ready(workers=2)
            yield stack
        finally:
            stack.close()
    finally:
        redis.stop()


@pytest.fixture(scope="module")
def digits(mnist_dir: Path) -> tuple[np.ndarray, np.ndarray]:
    test = load_mnist("test", mnist_dir)
    return test.images[:2000], test.labels[:2000]


def _draw_and_check(client: RecordingClient, images: np.ndarray, labels: np.ndarray,
                    seqs: range) -> None:
    """Draw one digit per seq, waiting for each answer; every answer is for its own seq."""
    for seq in seqs:
        i = seq % len(labels)
        client.draw(images[i].tolist(), seq)
        pred = client.wait_for("prediction", lambda d, s=seq: d["seq"] == s, timeout=30)
        assert pred["digit"] == int(labels[i]), (seq, pred["digit"], int(labels[i]))


def _served_websockets(stack: Stack, n: int, timeout: float = 10.0) -> list[str]:
    """The upstream of each websocket in nginx's access log (logged when it closes)."""
    assert stack.nginx is not None
    log = stack.nginx.run_dir / "access.log"
    deadline = time.monotonic() + timeout
    while True:
        found = UPSTREAM.findall(log.read_text()) if log.exists() else []
        if len(found) >= n or time.monotonic() > deadline:
            return found
        time.sleep(0.1)


def test_live_drawing_through_the_balancer_uses_both_web_processes(multi, digits) -> None:  # type: ignore[no-untyped-def]
    images, labels = digits
    clients = [RecordingClient(multi.url) for _ in range(CLIENTS)]
    try:
        assert [c.sio.transport() for c in clients] == ["websocket"] * CLIENTS
        for k, c in enumerate(clients):
            _draw_and_check(c, images, labels, range(100 * k, 100 * k + 5))
    finally:
        for c in clients:
            c.close()
    upstreams = _served_websockets(multi, CLIENTS)
    assert len(upstreams) == CLIENTS
    # least_conn spreads websocket-first connections over both processes, no stickiness needed
    assert {u.split(":")[-1] for u in upstreams} == {str(multi.web_port(i)) for i in (0, 1)}


def test_polling_fallback_stays_on_one_process_through_nginx(multi, digits) -> None:  # type: ignore[no-untyped-def]
    # A network that blocks websockets: every long-poll request of the session must reach the
    # process holding it (ip_hash), or the session breaks ("Invalid session").
    images, labels = digits
    client = RecordingClient(multi.url, transports=["polling"])
    try:
        assert client.sio.transport() == "polling"
        _draw_and_check(client, images, labels, range(1, 11))
        assert client.disconnects == 0
    finally:
        client.close()


def test_batch_posted_to_one_process_is_followed_on_the_other(multi, digits) -> None:  # type: ignore[no-untyped-def]
    images, labels = digits
    poster, follower = multi.web_urls
    watcher = RecordingClient(follower)  # directly on the other process, not via nginx
    try:
        items = [{"pixels": img.tolist()} for img in images]
        resp = requests.post(f"{poster}/api/batches", json={"images": items}, timeout=120)
        assert resp.status_code == 202, resp.text
        batch_id = resp.json()["batch_id"]
        watcher.sio.emit("subscribe", {"batch_id": batch_id})
        last = watcher.wait_for("batch_progress", lambda d: d["batch_id"] == batch_id
                                and d["done"] == d["total"], timeout=120)
        assert last["total"] == len(items)
        deadline = time.monotonic() + 60
        while (view := requests.get(f"{follower}/api/batches/{batch_id}",
                                    timeout=30).json())["status"] != "done":
            assert time.monotonic() < deadline, view
            time.sleep(0.2)
        assert [r["index"] for r in view["results"]] == list(range(len(items)))
        right = sum(r["digit"] == int(y) for r, y in zip(view["results"], labels, strict=True))
        assert right >= 0.98 * len(items)
    finally:
        watcher.close()


def test_model_activated_reaches_clients_of_both_processes(multi) -> None:  # type: ignore[no-untyped-def]
    clients = [RecordingClient(url) for url in multi.web_urls]
    try:
        new = ModelStore(multi.store).publish(BUNDLED_DIR / MODEL_FILE,
                                              {"test_accuracy": 0.99, "source": "multiweb test"})
        resp = requests.post(f"{multi.url}/api/models/{new}/activate", headers=ADMIN, timeout=30)
        assert resp.status_code == 200, resp.text
        for c in clients:
            assert c.wait_for("model_activated", lambda d: d["version"] == new)["version"] == new
    finally:
        for c in clients:
            c.close()


@pytest.fixture()
def no_websockets(multi: Stack, tmp_path: Path) -> Iterator[Nginx]:
    """A second nginx in front of the same web processes that refuses websocket upgrades."""
    with Nginx([multi.web_port(i) for i in (0, 1)], run_dir=tmp_path,
               block_websockets=True) as proxy:
        yield proxy


def test_python_clients_fall_back_to_polling_where_websockets_are_blocked(  # type: ignore[no-untyped-def]
        no_websockets, digits) -> None:
    images, labels = digits
    client = RecordingClient(no_websockets.url)  # websocket first, as everywhere
    try:
        assert client.sio.transport() == "polling"
        _draw_and_check(client, images, labels, range(1, 4))
    finally:
        client.close()


def _open_drawing_page(browser, url: str, page_errors: list[str]):  # type: ignore[no-untyped-def]
    """The page at `url`, recording its Socket.IO websockets and long-polling requests."""
    context = browser.new_context(viewport={"width": 1200, "height": 860})
    page = context.new_page()
    seen: dict[str, list[str]] = {"websocket": [], "polling": []}
    page.on("websocket", lambda ws: seen["websocket"].append(ws.url))
    page.on("request", lambda req: "transport=polling" in req.url
            and seen["polling"].append(req.url))
    page.on("pageerror", lambda exc: page_errors.append(str(exc)))
    page.goto(url + "/")
    return context, page, seen


@pytest.mark.browser
def test_the_page_draws_over_a_websocket_through_nginx(multi, browser, page_errors) -> None:  # type: ignore[no-untyped-def]
    context, page, seen = _open_drawing_page(browser, multi.url, page_errors)
    try:
        expect(page.locator("#conn")).to_have_text("connected", timeout=15_000)
        draw(page, DIGITS["7"])
        expect(page.locator("#digit")).to_have_text("7", timeout=15_000)
        assert [u for u in seen["websocket"] if "/socket.io/" in u], seen
        assert seen["polling"] == []  # websocket first: not one long-polling request
        assert not page_errors
    finally:
        context.close()


@pytest.mark.browser
def test_the_page_falls_back_to_polling_where_websockets_are_blocked(  # type: ignore[no-untyped-def]
        no_websockets, browser, page_errors) -> None:
    context, page, seen = _open_drawing_page(browser, no_websockets.url, page_errors)
    try:
        expect(page.locator("#conn")).to_have_text("connected", timeout=30_000)
        draw(page, DIGITS["7"])
        expect(page.locator("#digit")).to_have_text("7", timeout=15_000)
        assert seen["websocket"] and seen["polling"], seen  # tried, refused, fell back
        assert not page_errors
    finally:
        context.close()


def test_clients_of_a_killed_web_process_reconnect_through_nginx(multi, digits) -> None:  # type: ignore[no-untyped-def]
    images, labels = digits
    clients = [RecordingClient(multi.url, reconnection=True) for _ in range(CLIENTS)]
    try:
        for k, c in enumerate(clients):
            _draw_and_check(c, images, labels, range(1000 * k, 1000 * k + 2))
        victim = multi.webs[0]
        stop(victim, sig=signal.SIGKILL)
        assert victim.poll() == -signal.SIGKILL

        deadline = time.monotonic() + 30  # liveness only; bench/failover.py times it
        while sum(c.disconnects for c in clients) == 0:
            assert time.monotonic() < deadline, "no client was on the killed process"
            time.sleep(0.1)
        time.sleep(1)  # let every socket of the dead process notice
        moved = [c for c in clients if c.disconnects]
        stayed = [c for c in clients if not c.disconnects]
        assert moved and stayed, (len(moved), len(stayed))  # both processes had clients
        for c in moved:
            c.wait_connects(2, timeout=max(1.0, deadline - time.monotonic()))
        for k, c in enumerate(clients):  # everyone draws again, on the surviving process
            _draw_and_check(c, images, labels, range(1000 * k + 2, 1000 * k + 5))
        assert all(c.connects == 2 for c in moved) and all(c.connects == 1 for c in stayed)
    finally:
        for c in clients:
            c.close()
    newcomer = RecordingClient(multi.url)  # nginx sends new connections to the survivor
    try:
        _draw_and_check(newcomer, images, labels, range(5000, 5002))
    finally:
        newcomer.close()
