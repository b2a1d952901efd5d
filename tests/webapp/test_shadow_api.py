"""GET /api/admin/shadow/disagreements in-process: admin only, checked arguments, the review
task queued by name (no worker behind the recording sender)."""

from __future__ import annotations

import pytest
from flask import Flask
from flask.testing import FlaskClient

from shared.celery_app import SHADOW_REVIEW_TASK
from shared.model_store import BUNDLED_DIR, MODEL_FILE
from tests.utils.recording_sender import RecordingSender
from tests.webapp.conftest import AUTH

URL = "/api/admin/shadow/disagreements"


@pytest.fixture
def published(app: Flask) -> list[int]:
    store = app.extensions["digitflow"].store
    return [store.publish(BUNDLED_DIR / MODEL_FILE, {"test_accuracy": 0.99}) for _ in range(2)]


def test_without_the_admin_token_it_is_401(client: FlaskClient, published: list[int]) -> None:
    resp = client.get(f"{URL}?version=2")
    assert resp.status_code == 401 and "admin token" in resp.get_json()["error"]


@pytest.mark.parametrize(
    ("query", "needle"),
    [
        ("", "'version' must be"),
        ("?version=x", "'version' must be"),
        ("?version=-1", "'version' must be"),
        ("?version=2&last=0", "'last' must be"),
        ("?version=2&last=1001", "'last' must be"),
        ("?version=2&last=%C2%B2", "'last' must be"),
        ("?version=7", "no published model version 7"),
    ],
)
def test_bad_arguments_are_a_400_and_queue_nothing(
        client: FlaskClient, published: list[int], sender: RecordingSender, query: str,
        needle: str) -> None:
    resp = client.get(URL + query, headers=AUTH)
    assert resp.status_code == 400 and needle in resp.get_json()["error"]
    assert sender.sent == []


def test_the_review_is_sent_by_name_and_its_answer_returned(
        client: FlaskClient, published: list[int], sender: RecordingSender) -> None:
    sender.answer = {"version": 2, "active_version": 1, "compared": 0, "disagree": 0,
                     "items": []}
    resp = client.get(f"{URL}?version=2&last=50", headers=AUTH)
    assert resp.status_code == 200 and resp.get_json() == sender.answer
    [task] = sender.named(SHADOW_REVIEW_TASK)
    assert task.args == [2, 50] and task.forgotten


def test_last_defaults_to_200(client: FlaskClient, published: list[int],
                              sender: RecordingSender) -> None:
    client.get(f"{URL}?version=1", headers=AUTH)
    assert sender.named(SHADOW_REVIEW_TASK)[0].args == [1, 200]


def test_no_worker_in_time_is_a_504(client: FlaskClient, published: list[int],
                                    sender: RecordingSender) -> None:
    resp = client.get(f"{URL}?version=1", headers=AUTH)
    assert resp.status_code == 504 and "no worker" in resp.get_json()["error"]
    assert sender.named(SHADOW_REVIEW_TASK)[0].revoked


def test_a_worker_error_is_passed_on_as_502(client: FlaskClient, published: list[int],
                                            sender: RecordingSender) -> None:
    sender.answer = {"error": "shadow version 2 could not be loaded"}
    resp = client.get(f"{URL}?version=2", headers=AUTH)
    assert resp.status_code == 502 and "could not be loaded" in resp.get_json()["error"]
