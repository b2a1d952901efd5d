"""REST end to end against the real stack: predict (JSON and multipart), health, errors."""

from __future__ import annotations

import base64
import io

import numpy as np
import pytest
import requests
from PIL import Image

from devtools.stack import start_stack
from shared.mnist import load_mnist
from tests.utils.bad_predict_bodies import BAD_JSON_BODIES, JSON_HEADERS

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def mnist_test(mnist_dir):  # type: ignore[no-untyped-def]
    return load_mnist("test", mnist_dir)


def png_black_on_white(digit: np.ndarray, scale: int = 8) -> bytes:
    """How a user draws in a paint program: black ink on white, bigger than 28x28."""
    img = Image.fromarray(255 - digit).resize((28 * scale, 28 * scale), Image.Resampling.BILINEAR)
    buf = io.BytesIO()
    img.save(buf, format="PNG")
    return buf.getvalue()


def test_healthz(stack) -> None:  # type: ignore[no-untyped-def]
    body = requests.get(f"{stack.url}/healthz", timeout=5).json()
    assert body["redis"] == "ok"
    assert body["workers"] >= 1
    assert isinstance(body["model_version"], int)


def test_predict_json_pixels(stack, mnist_test) -> None:  # type: ignore[no-untyped-def]
    for i in range(5):
        resp = requests.post(f"{stack.url}/api/predict",
                             json={"pixels": mnist_test.images[i].tolist()}, timeout=15)
        assert resp.status_code == 200, resp.text
        body = resp.json()
        assert body["digit"] == int(mnist_test.labels[i])
        assert len(body["probabilities"]) == 10
        assert isinstance(body["model_version"], int)


def test_predict_json_image_data_url(stack, mnist_test) -> None:  # type: ignore[no-untyped-def]
    url = "data:image/png;base64," + base64.b64encode(
        png_black_on_white(mnist_test.images[7])).decode()
    resp = requests.post(f"{stack.url}/api/predict", json={"image": url}, timeout=15)
    assert resp.status_code == 200, resp.text
    assert resp.json()["digit"] == int(mnist_test.labels[7])


def test_predict_multipart_png(stack, mnist_test) -> None:  # type: ignore[no-untyped-def]
    files = {"image": ("two.png", png_black_on_white(mnist_test.images[1]), "image/png")}
    resp = requests.post(f"{stack.url}/api/predict", files=files, timeout=15)
    assert resp.status_code == 200, resp.text
    assert resp.json()["digit"] == int(mnist_test.labels[1])


def test_predict_empty_drawing_is_not_guessed(stack) -> None:  # type: ignore[no-untyped-def]
    resp = requests.post(f"{stack.url}/api/predict", json={"pixels": [[0] * 64] * 64}, timeout=15)
    assert resp.status_code == 200
    assert resp.json()["digit"] is None


@pytest.mark.parametrize(
    ("kwargs", "status", "needle"),
    [
        *BAD_JSON_BODIES,
        ({"files": {"image": ("x.png", b"\x89PNG\r\n\x1a\nbroken", "image/png")}}, 400, "corrupt"),
        ({"files": {"wrong": ("x.png", b"abc", "image/png")}}, 400, "'image'"),
        ({"data": b"x" * (9 * 1024 * 1024), "headers": JSON_HEADERS}, 413, "too large"),
    ],
)
def test_predict_bad_input_is_a_clear_4xx(stack, kwargs, status, needle) -> None:  # type: ignore[no-untyped-def]
    resp = requests.post(f"{stack.url}/api/predict", timeout=15, **kwargs)
    assert resp.status_code == status, resp.text
    assert needle.lower() in resp.json()["error"].lower()


def test_unknown_route_is_json_404(stack) -> None:  # type: ignore[no-untyped-def]
    resp = requests.get(f"{stack.url}/api/nothing", timeout=5)
    assert resp.status_code == 404
    assert "error" in resp.json()


def test_predict_times_out_with_504_when_no_worker_answers(redis_server, tmp_path) -> None:  # type: ignore[no-untyped-def]
    """A web server whose queue nobody consumes (another Redis db) must answer 504, not hang."""
    lonely = start_stack(redis_server.url.rsplit("/", 1)[0] + "/7", tmp_path, workers=0,
                         PREDICT_TIMEOUT_S="1.5")
    try:
        lonely.wait_ready(workers=0, timeout=60)
        resp = requests.post(f"{lonely.url}/api/predict", json={"pixels": [[0] * 28] * 28},
                             timeout=15)
        assert resp.status_code == 504
        assert "no worker" in resp.json()["error"]
    finally:
        lonely.close()
