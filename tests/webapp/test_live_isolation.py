"""Live drawing stays served whatever else happens: a batch, a heavy image, many connections.

Real redis-server, real Celery worker, real web server (gunicorn + gevent), real Socket.IO
clients. No timing thresholds: the assertions are about order (a live frame is answered while
a batch queued before it is still running) and about every frame being answered, with only
generous sanity timeouts.
"""

from __future__ import annotations

import asyncio
import time

import aiohttp
import pytest
import requests
import socketio

from devtools.sio import RecordingClient
from shared.mnist import load_mnist
from tests.utils.images import data_url, draw_strokes, encode, rgba_on_transparent

pytestmark = pytest.mark.integration

ANSWER_TIMEOUT_S = 60.0  # a sanity bound: a frame that needs this long is lost, not slow


@pytest.fixture(scope="module")
def digits(mnist_dir):  # type: ignore[no-untyped-def]
    test = load_mnist("test", mnist_dir)
    return test.images, test.labels


def draw_in_turn(client: RecordingClient, images, first_seq: int, n: int) -> list[float]:  # type: ignore[no-untyped-def]
    """Draw n frames, each after the previous one's answer; returns each answer's latency."""
    latencies = []
    for i in range(n):
        seq = first_seq + i
        t = time.perf_counter()
        client.draw(images[i].tolist(), seq)
        client.wait_for("prediction", lambda d, s=seq: d["seq"] == s, timeout=ANSWER_TIMEOUT_S)
        latencies.append(time.perf_counter() - t)
    return latencies


def test_a_live_drawer_is_served_while_a_batch_queued_before_it_runs(stack, digits) -> None:  # type: ignore[no-untyped-def]
    images, labels = digits
    body = {"images": [{"pixels": img.tolist()} for img in images[:10_000]]}
    resp = requests.post(f"{stack.url}/api/batches", json=body, timeout=300)
    assert resp.status_code == 202
    batch_id, total = resp.json()["batch_id"], resp.json()["total"]
    client = RecordingClient(stack.url)
    try:
        latencies = draw_in_turn(client, images[:20], 1, 20)  # every frame must be answered
        view = requests.get(f"{stack.url}/api/batches/{batch_id}?results=0", timeout=30).json()
        # the batch's chunks were all queued before the first frame: the frames went first
        assert view["done"] < total, "the batch finished before the live frames were answered"
        answers = {d["seq"]: d["digit"] for d in client.of("prediction")}
        assert sum(answers[i + 1] == int(labels[i]) for i in range(20)) >= 19
        print(f"live latency beside a batch: max {max(latencies) * 1000:.0f} ms, "
              f"batch {view['done']}/{total} done after the 20 frames")
    finally:
        client.close()
    deadline = time.monotonic() + 600  # let the batch end so later tests get the worker back
    while time.monotonic() < deadline:
        view = requests.get(f"{stack.url}/api/batches/{batch_id}?results=0", timeout=30).json()
        if view["status"] == "done":
            break
        time.sleep(0.5)
    assert view["status"] == "done" and view["done"] == total


def test_a_client_streaming_heavy_images_does_not_stall_another(stack, digits) -> None:  # type: ignore[no-untyped-def]
    images, _ = digits
    heavy = data_url(encode(rgba_on_transparent(
        draw_strokes((4096, 4096), (900, 600, 3200, 3600))), optimize=True))
    streamer, drawer = RecordingClient(stack.url), RecordingClient(stack.url)
    try:
        for seq in range(1, 6):  # the gate keeps one in flight; the rest wait and coalesce
            streamer.sio.emit("draw", {"image": heavy, "seq": seq})
        latencies = draw_in_turn(drawer, images[100:130], 1, 30)
        streamer.wait_for("prediction", lambda d: d["seq"] == 5, timeout=ANSWER_TIMEOUT_S)
        assert streamer.of("prediction")[-1]["digit"] == 7
        assert not drawer.of("error") and not streamer.of("error")
        print(f"another client's latency while 4096x4096 PNGs stream: "
              f"max {max(latencies) * 1000:.0f} ms over {len(latencies)} frames")
    finally:
        streamer.close()
        drawer.close()


async def _connect(url: str, addr: str, refusals: list[str]) -> socketio.AsyncClient | None:
    """A websocket Socket.IO client from source address `addr`; None if refused."""
    session = aiohttp.ClientSession(connector=aiohttp.TCPConnector(local_addr=(addr, 0)))
    sio = socketio.AsyncClient(reconnection=False, http_session=session)

    @sio.on("connect_error")
    async def refused(data):  # type: ignore[no-untyped-def]
        refusals.append(data.get("message", "") if isinstance(data, dict) else str(data))

    try:
        await sio.connect(url, transports=["websocket"], wait_timeout=30)
    except socketio.exceptions.ConnectionError:
        await session.close()
        return None
    sio.test_session = session  # type: ignore[attr-defined]
    return sio


async def _close(clients: list[socketio.AsyncClient | None]) -> None:
    for c in clients:
        if c is not None:
            await c.disconnect()
            await c.test_session.close()  # type: ignore[attr-defined]


def test_each_address_holds_at_most_20_connections(stack) -> None:  # type: ignore[no-untyped-def]
    async def scenario() -> None:
        refusals: list[str] = []
        full = [await _connect(stack.url, "127.0.0.77", refusals) for _ in range(20)]
        try:
            assert all(c is not None for c in full)
            extra = await _connect(stack.url, "127.0.0.77", refusals)
            assert extra is None
            assert refusals and "too many connections" in refusals[0]
            other = await _connect(stack.url, "127.0.0.78", refusals)  # another address is fine
            assert other is not None
            await _close([other, full.pop()])
            deadline = time.monotonic() + 15  # until the server has seen the disconnect
            while (again := await _connect(stack.url, "127.0.0.77", refusals)) is None:
                assert time.monotonic() < deadline, refusals[-1]  # the freed place is taken
                await asyncio.sleep(0.2)
            full.append(again)
        finally:
            await _close(full)

    asyncio.run(scenario())


def test_hundreds_of_idle_connections_leave_healthz_and_drawing_served(stack, digits) -> None:  # type: ignore[no-untyped-def]
    """More websockets than the old server had threads (200): nothing waits behind them."""
    images, labels = digits

    async def scenario() -> None:
        refusals: list[str] = []
        idle = await asyncio.gather(*(_connect(stack.url, f"127.0.1.{1 + i // 20}", refusals)
                                      for i in range(300)))
        try:
            assert sum(c is not None for c in idle) == 300, refusals[:3]
            async with aiohttp.ClientSession() as http:
                for _ in range(5):
                    async with http.get(f"{stack.url}/healthz",
                                        timeout=aiohttp.ClientTimeout(total=30)) as resp:
                        assert resp.status == 200
            client = await asyncio.to_thread(RecordingClient, stack.url)
            try:
                await asyncio.to_thread(draw_in_turn, client, images[200:210], 1, 10)
                answers = {d["seq"]: d["digit"] for d in client.of("prediction")}
                assert sum(answers[i + 1] == int(labels[200 + i]) for i in range(10)) >= 9
            finally:
                client.close()
        finally:
            await _close(list(idle))

    asyncio.run(scenario())
