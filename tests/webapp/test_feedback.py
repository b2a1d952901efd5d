"""POST /api/feedback in-process: the record the trainer will read, its cap, bad labels."""

from __future__ import annotations

import numpy as np
import pytest
from flask import Flask
from flask.testing import FlaskClient

from shared.feedback import read_feedback
from shared.preprocess import to_mnist


def stroke() -> np.ndarray:
    pixels = np.zeros((64, 64), np.uint8)
    pixels[10:54, 30:36] = 255
    return pixels


def test_feedback_is_kept_preprocessed_for_training(app: Flask, client: FlaskClient) -> None:
    resp = client.post("/api/feedback", json={"pixels": stroke().tolist(), "label": 1})
    assert resp.status_code == 201 and resp.get_json() == {"ok": True, "count": 1}
    digits, labels = read_feedback(app.extensions["digitflow"].redis, 10)
    assert labels.tolist() == [1]
    assert np.array_equal(digits[0], to_mnist(stroke().astype(np.float32)))


def test_feedback_keeps_only_the_newest(app: Flask, client: FlaskClient) -> None:
    for label in range(5):  # the app fixture caps feedback at 3
        resp = client.post("/api/feedback", json={"pixels": stroke().tolist(), "label": label})
    assert resp.get_json()["count"] == 3
    _, labels = read_feedback(app.extensions["digitflow"].redis, 10)
    assert labels.tolist() == [4, 3, 2]


@pytest.mark.parametrize(
    ("body", "needle"),
    [
        ({"pixels": stroke().tolist(), "label": 10}, "label"),
        ({"pixels": stroke().tolist(), "label": True}, "label"),
        ({"pixels": stroke().tolist()}, "label"),
        ({"pixels": [[0] * 28] * 28, "label": 3}, "empty"),
        ({"pixels": stroke().tolist(), "label": 3, "note": "x"}, "unknown field"),
    ],
)
def test_bad_feedback_is_a_400(client: FlaskClient, body: dict, needle: str) -> None:
    resp = client.post("/api/feedback", json=body)
    assert resp.status_code == 400 and needle in resp.get_json()["error"]
