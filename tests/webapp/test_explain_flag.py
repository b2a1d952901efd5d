"""`explain` and the "not a digit" label, in-process: validated before anything is queued."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from flask import Flask
from flask.testing import FlaskClient
from flask_socketio.test_client import SocketIOTestClient

from shared.celery_app import CLASSIFY_FRAME_TASK, PREDICT_TASK
from shared.feedback import NOT_A_DIGIT_CLASS, read_feedback
from shared.wire import unpack
from tests.utils.recording_sender import RecordingSender

PIXELS = np.zeros((28, 28), np.uint8)
PIXELS[5:20, 12:15] = 200


def received(client: SocketIOTestClient, event: str) -> list[Any]:
    return [msg["args"][0] for msg in client.get_received() if msg["name"] == event]


def test_explain_true_marks_the_queued_item(client: FlaskClient,
                                            sender: RecordingSender) -> None:
    client.post("/api/predict", json={"pixels": PIXELS.tolist(), "explain": True})
    [task] = sender.named(PREDICT_TASK)
    assert task.args[0]["explain"] is True
    assert np.array_equal(unpack(task.args[0]), PIXELS.astype(np.float32))


def test_explain_false_queues_a_plain_item(client: FlaskClient,
                                           sender: RecordingSender) -> None:
    client.post("/api/predict", json={"pixels": PIXELS.tolist(), "explain": False})
    [task] = sender.named(PREDICT_TASK)
    assert "explain" not in task.args[0]


@pytest.mark.parametrize("value", [1, "yes", None, [True], {"on": True}])
def test_explain_must_be_a_boolean(client: FlaskClient, sender: RecordingSender,
                                   value: Any) -> None:
    resp = client.post("/api/predict", json={"pixels": PIXELS.tolist(), "explain": value})
    assert resp.status_code == 400
    assert resp.get_json()["error"] == "'explain' must be true or false"
    assert sender.sent == []


def test_unknown_fields_are_still_refused(client: FlaskClient, sender: RecordingSender) -> None:
    resp = client.post("/api/predict", json={"pixels": PIXELS.tolist(), "explain": True,
                                             "explainer": "ig"})
    assert resp.status_code == 400
    assert "unknown field(s): explainer" in resp.get_json()["error"]
    assert sender.sent == []


def test_a_draw_frame_may_ask_for_saliency(socketio_client: SocketIOTestClient,
                                           sender: RecordingSender) -> None:
    socketio_client.emit("draw", {"pixels": PIXELS.tolist(), "seq": 1, "explain": True})
    [task] = sender.named(CLASSIFY_FRAME_TASK)
    assert task.args[2]["explain"] is True


def test_a_draw_frame_with_a_bad_explain_gets_an_error(socketio_client: SocketIOTestClient,
                                                       sender: RecordingSender) -> None:
    received(socketio_client, "hello")
    socketio_client.emit("draw", {"pixels": PIXELS.tolist(), "seq": 2, "explain": "yes"})
    assert received(socketio_client, "error") == [
        {"seq": 2, "error": "'explain' must be true or false"}]
    assert sender.named(CLASSIFY_FRAME_TASK) == []


def test_not_a_digit_feedback_is_kept_as_the_extra_class(app: Flask,
                                                         client: FlaskClient) -> None:
    resp = client.post("/api/feedback", json={"pixels": PIXELS.tolist(),
                                              "label": "not a digit"})
    assert resp.status_code == 201
    _, labels = read_feedback(app.extensions["digitflow"].redis, 10)
    assert labels.tolist() == [NOT_A_DIGIT_CLASS]


@pytest.mark.parametrize("label", ["Not a digit", "none", 10, "10"])
def test_other_labels_are_still_refused(client: FlaskClient, label: Any) -> None:
    resp = client.post("/api/feedback", json={"pixels": PIXELS.tolist(), "label": label})
    assert resp.status_code == 400
    assert "'not a digit'" in resp.get_json()["error"]
