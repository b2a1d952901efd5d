"""Number mode end to end: real redis-server, real Celery worker with the bundled model, real
web server, real Socket.IO client; REST, batches and live `draw` frames."""

from __future__ import annotations

import base64
import io
import time
from pathlib import Path

import numpy as np
import pytest
import requests
from PIL import Image

from devtools.compose import compose_mnist, compose_pen
from devtools.sio import RecordingClient
from shared.celery_app import CLASSIFY_FRAME_TASK, make_celery
from shared.mnist import load_mnist
from shared.number import MAX_DIGITS
from shared.settings import Settings
from trainer.data.pendigits import load_pendigits

pytestmark = pytest.mark.integration
PENDIGITS = Path(__file__).resolve().parents[3] / "shared" / "data" / "pendigits"


@pytest.fixture(scope="module")
def mnist_test(mnist_dir):  # type: ignore[no-untyped-def]
    return load_mnist("test", mnist_dir)


def number_of(mnist_test, text: str, gaps: list[int]) -> np.ndarray:  # type: ignore[no-untyped-def]
    """`text` composed from the first MNIST test digit of each label (gaps at 28x28 scale)."""
    first = {d: int(np.flatnonzero(mnist_test.labels == d)[0]) for d in range(10)}
    return compose_mnist(mnist_test.images[[first[int(c)] for c in text]], gaps)


def pixels(ink: np.ndarray) -> list[list[int]]:
    return np.clip(np.rint(ink), 0, 255).astype(int).tolist()


def png_url(ink: np.ndarray) -> str:
    """Black on white, as a paint program saves it, as a data URL."""
    buf = io.BytesIO()
    Image.fromarray(255 - np.clip(ink, 0, 255).astype(np.uint8)).save(buf, format="PNG")
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode()


def check_answer(body: dict, number: str) -> None:
    assert body["number"] == number, body.get("number")
    assert len(body["digits"]) == len(number)
    assert isinstance(body["model_version"], int)
    for d, expected in zip(body["digits"], number, strict=True):
        assert d["digit"] == int(expected)
        assert len(d["probabilities"]) == 10 and abs(sum(d["probabilities"]) - 1) < 1e-3
        assert len(base64.b64decode(d["image28_b64"])) == 28 * 28


@pytest.fixture()
def client(stack):  # type: ignore[no-untyped-def]
    c = RecordingClient(stack.url)
    yield c
    c.close()


# ---------------------------------------------------------------- REST
def test_rest_reads_a_number_from_pixels_and_from_a_png(stack, mnist_test) -> None:  # type: ignore[no-untyped-def]
    ink = number_of(mnist_test, "2026", [4, 2, 6])
    resp = requests.post(f"{stack.url}/api/predict",
                         json={"pixels": pixels(ink), "mode": "number"}, timeout=30)
    assert resp.status_code == 200, resp.text
    check_answer(resp.json(), "2026")
    big = np.asarray(Image.fromarray(ink.astype(np.uint8)).resize(
        (ink.shape[1] * 4, ink.shape[0] * 4), Image.Resampling.BILINEAR), np.float32)
    resp = requests.post(f"{stack.url}/api/predict", json={"image": png_url(big),
                                                          "mode": "number"}, timeout=30)
    assert resp.status_code == 200, resp.text
    check_answer(resp.json(), "2026")


def test_rest_number_by_multipart_form_field(stack, mnist_test) -> None:  # type: ignore[no-untyped-def]
    ink = number_of(mnist_test, "907", [3, 5])
    raw = base64.b64decode(png_url(ink).split(",", 1)[1])
    resp = requests.post(f"{stack.url}/api/predict", files={"image": ("n.png", raw)},
                         data={"mode": "number"}, timeout=30)
    assert resp.status_code == 200, resp.text
    check_answer(resp.json(), "907")


def test_rest_single_digit_contract_is_unchanged(stack, mnist_test) -> None:  # type: ignore[no-untyped-def]
    body = requests.post(f"{stack.url}/api/predict",
                         json={"pixels": mnist_test.images[0].tolist(), "mode": "digit"},
                         timeout=30).json()
    assert body["digit"] == int(mnist_test.labels[0]) and "number" not in body


def test_rest_empty_number_is_explicit(stack) -> None:  # type: ignore[no-untyped-def]
    body = requests.post(f"{stack.url}/api/predict",
                         json={"pixels": [[0] * 64] * 16, "mode": "number"}, timeout=30).json()
    assert body["number"] == "" and body["digits"] == [] and body["empty"] is True


@pytest.mark.parametrize(("extra", "needle"), [
    ({"mode": "roman"}, "mode must be"),
    ({"mode": "number", "strokes": [[0.9, 0.1]]}, "x0 <= x1"),
    ({"mode": "number", "strokes": [[0, 1]] * 65}, "too many strokes"),
    ({"strokes": [[0, 1]]}, "only in number mode"),
])
def test_rest_bad_number_fields_are_400(stack, extra, needle) -> None:  # type: ignore[no-untyped-def]
    resp = requests.post(f"{stack.url}/api/predict", json={"pixels": [[0] * 16] * 16, **extra},
                         timeout=30)
    assert resp.status_code == 400 and needle in resp.json()["error"]


def test_rest_too_many_digits_is_400(stack) -> None:  # type: ignore[no-untyped-def]
    ink = np.zeros((40, 30 * (MAX_DIGITS + 2)), np.float32)
    for k in range(MAX_DIGITS + 1):
        ink[8:32, 30 * k + 14 : 30 * k + 17] = 255.0  # a row of 1s
    resp = requests.post(f"{stack.url}/api/predict", json={"pixels": pixels(ink),
                                                          "mode": "number"}, timeout=30)
    assert resp.status_code == 400 and f"at most {MAX_DIGITS}" in resp.json()["error"]


# ---------------------------------------------------------------- batches
def test_batch_items_may_be_numbers(stack, mnist_test) -> None:  # type: ignore[no-untyped-def]
    items = [{"pixels": pixels(number_of(mnist_test, "2026", [3, 3, 3])), "mode": "number"},
             {"pixels": mnist_test.images[1].tolist()},
             {"pixels": [[0] * 16] * 16, "mode": "number", "strokes": "bad"},
             {"pixels": pixels(number_of(mnist_test, "71", [2])), "mode": "number"}]
    resp = requests.post(f"{stack.url}/api/batches", json={"images": items}, timeout=30)
    assert resp.status_code == 202, resp.text
    batch = resp.json()["batch_id"]
    deadline = time.monotonic() + 60
    while True:
        view = requests.get(f"{stack.url}/api/batches/{batch}", timeout=10).json()
        if view["status"] == "done" or time.monotonic() > deadline:
            break
        time.sleep(0.2)
    results = view["results"]
    assert [r["index"] for r in results] == [0, 1, 2, 3]
    check_answer(results[0], "2026")
    assert results[1]["digit"] == int(mnist_test.labels[1]) and "number" not in results[1]
    assert "strokes" in results[2]["error"]
    check_answer(results[3], "71")


# ---------------------------------------------------------------- live
def test_live_number_frame_with_strokes(client) -> None:  # type: ignore[no-untyped-def]
    if not PENDIGITS.is_dir():
        pytest.skip(f"pendigits not found at {PENDIGITS}")
    pen = load_pendigits(PENDIGITS)
    first = {d: next(p for p in pen if p.label == d) for d in (2, 0, 6)}
    ink, spans = compose_pen([first[int(c)].strokes for c in "2026"], [5, 5, 5],
                             np.random.default_rng(0))
    client.sio.emit("draw", {"pixels": pixels(ink), "seq": 1, "mode": "number",
                             "strokes": [list(s) for s in spans]})
    answer = client.wait_for("prediction", lambda d: d["seq"] == 1, timeout=30)
    check_answer(answer, "2026")


def test_live_number_frame_from_pixels(client, mnist_test) -> None:  # type: ignore[no-untyped-def]
    client.sio.emit("draw", {"pixels": pixels(number_of(mnist_test, "90210", [1, 5, 0, 7])),
                             "seq": 2, "mode": "number"})
    check_answer(client.wait_for("prediction", lambda d: d["seq"] == 2, timeout=30), "90210")


def test_live_bad_number_frames_get_error_events(stack, client, mnist_test) -> None:  # type: ignore[no-untyped-def]
    client.sio.emit("draw", {"pixels": [[0] * 16] * 16, "seq": 3, "mode": "number",
                             "strokes": [[0, 2]]})
    assert "x0 <= x1" in client.wait_for("error", lambda d: d["seq"] == 3)["error"]
    # straight onto the queue, past the web's checks: the worker answers an error, lives on
    celery = make_celery(Settings(redis_url=stack.redis_url))
    sid = client.sio.get_sid()
    for seq, item in enumerate([{"mode": "number"}, {"mode": "number", "item": 5},
                                {"mode": "number", "item": {"pixels": "junk"}},
                                {"mode": "number", "item": {"pixels": [[0] * 16] * 16},
                                 "strokes": [[0, 1]] * 1000}], start=10):
        celery.send_task(CLASSIFY_FRAME_TASK, args=[sid, seq, item, None])
        assert client.wait_for("error", lambda d, s=seq: d["seq"] == s)["error"]
    client.sio.emit("draw", {"pixels": pixels(number_of(mnist_test, "42", [4])), "seq": 20,
                             "mode": "number"})
    check_answer(client.wait_for("prediction", lambda d: d["seq"] == 20, timeout=30), "42")
    assert stack.workers[0].poll() is None
