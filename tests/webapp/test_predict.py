"""POST /api/predict in-process: validation before queueing, the queued task, 504 and 400."""

from __future__ import annotations

import base64
import io

import numpy as np
import pytest
from flask.testing import FlaskClient
from PIL import Image

from shared.celery_app import PREDICT_TASK
from shared.wire import unpack
from tests.utils.bad_predict_bodies import BAD_JSON_BODIES, JSON_HEADERS
from tests.utils.recording_sender import RecordingSender


def png_bytes(size: int = 32) -> bytes:
    """A white square on black, as a PNG."""
    img = np.zeros((size, size), np.uint8)
    img[8:-8, 8:-8] = 255
    buf = io.BytesIO()
    Image.fromarray(img).save(buf, format="PNG")
    return buf.getvalue()


@pytest.mark.parametrize(
    ("kwargs", "status", "needle"),
    [
        *BAD_JSON_BODIES,
        ({"data": {"image": (io.BytesIO(b"\x89PNG\r\n\x1a\nbroken"), "x.png")}}, 400,
         "corrupt"),
        ({"data": {"wrong": (io.BytesIO(b"abc"), "x.png")}}, 400, "'image'"),
        ({"data": b"x" * (65 * 1024), "headers": JSON_HEADERS}, 413, "too large"),
    ],
)
def test_bad_input_is_a_clear_4xx_and_nothing_is_queued(
    client: FlaskClient, sender: RecordingSender, kwargs: dict, status: int, needle: str
) -> None:
    resp = client.post("/api/predict", **kwargs)
    assert resp.status_code == status, resp.get_data(as_text=True)
    assert needle.lower() in resp.get_json()["error"].lower()
    assert sender.sent == []


def test_pixels_are_queued_packed_by_task_name(client: FlaskClient,
                                              sender: RecordingSender) -> None:
    pixels = np.zeros((28, 28), np.uint8)
    pixels[5:20, 12:15] = 200
    client.post("/api/predict", json={"pixels": pixels.tolist()})
    [task] = sender.named(PREDICT_TASK)
    assert np.array_equal(unpack(task.args[0]), pixels.astype(np.float32))


def test_multipart_upload_is_queued_as_an_image_item(client: FlaskClient,
                                                     sender: RecordingSender) -> None:
    raw = png_bytes()
    client.post("/api/predict", data={"image": (io.BytesIO(raw), "d.png")})
    [task] = sender.named(PREDICT_TASK)
    header, _, body = task.args[0]["image"].partition(",")
    assert header.startswith("data:") and base64.b64decode(body) == raw


def test_no_worker_answer_is_504_and_the_task_is_revoked(client: FlaskClient,
                                                         sender: RecordingSender) -> None:
    resp = client.post("/api/predict", json={"pixels": [[0] * 28] * 28})
    assert resp.status_code == 504
    assert "no worker" in resp.get_json()["error"]
    assert sender.sent[0].revoked


def test_a_worker_answer_is_returned_with_the_latency(client: FlaskClient,
                                                      sender: RecordingSender) -> None:
    sender.answer = {"digit": 3, "probabilities": [0.1] * 10, "model_version": 2}
    resp = client.post("/api/predict", json={"pixels": [[0] * 28] * 28})
    assert resp.status_code == 200
    body = resp.get_json()
    assert body["digit"] == 3 and body["latency_ms"] >= 0
    assert sender.sent[0].forgotten


def test_a_worker_error_answer_is_a_400(client: FlaskClient, sender: RecordingSender) -> None:
    sender.answer = {"error": "image is corrupt"}
    resp = client.post("/api/predict", json={"pixels": [[0] * 28] * 28})
    assert resp.status_code == 400 and resp.get_json() == {"error": "image is corrupt"}


def test_unknown_route_is_json_404(client: FlaskClient) -> None:
    resp = client.get("/api/nothing")
    assert resp.status_code == 404 and "error" in resp.get_json()
