"""The bad-input corpus against the real stack: every case gets a 4xx `{"error"}` or an
`error` event, never a 5xx and never silence.

Real redis-server, real Celery worker with the bundled model, real web server (gunicorn),
real Socket.IO clients. After each class of cases a valid digit must still be answered
correctly, over REST and over the socket, and a well-behaved bystander client, connected
throughout, must have every one of its drawings answered and no error.
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Iterator
from typing import Any

import pytest
import requests

from devtools.sio import RecordingClient
from shared.mnist import load_mnist
from tests.utils.bad_inputs import REST_CLASSES, SOCKET_CLASSES, Rest, Sock, corpus_size

pytestmark = pytest.mark.integration
ANSWER_TIMEOUT_S = 15.0
# one rising seq for every frame of this module: a frame older than the client's newest is
# dropped by design (the newer frame's answer covers it), so each new frame gets a new high
SEQS = itertools.count(10**9)


@pytest.fixture(scope="module")
def digits(mnist_dir):  # type: ignore[no-untyped-def]
    test = load_mnist("test", mnist_dir)
    return test.images[:20], test.labels[:20]


@pytest.fixture(scope="module")
def bystander(stack) -> Iterator[RecordingClient]:  # type: ignore[no-untyped-def]
    """A well-behaved client, connected for the whole corpus."""
    client = RecordingClient(stack.url)
    yield client
    client.close()


@pytest.fixture(scope="module")
def attacker(stack) -> Iterator[RecordingClient]:  # type: ignore[no-untyped-def]
    client = RecordingClient(stack.url)
    yield client
    client.close()


def check_rest(url: str, case: Rest) -> str | None:
    """None when the case got its expected status and a JSON error naming the problem."""
    try:
        resp = requests.request(case.method, url + case.path, timeout=60, **case.request_kwargs())
    except requests.RequestException as exc:
        return f"{case.name}: no answer ({type(exc).__name__})"
    if not case.json_error:
        return None if resp.status_code == case.status else (
            f"{case.name}: {resp.status_code} (wanted {case.status})")
    try:
        body: Any = resp.json()
    except ValueError:
        return f"{case.name}: {resp.status_code} without JSON: {resp.text[:120]!r}"
    if resp.status_code != case.status:
        return f"{case.name}: {resp.status_code} (wanted {case.status}): {str(body)[:200]}"
    if case.status >= 400:
        error = body.get("error") if isinstance(body, dict) else None
        if not isinstance(error, str) or case.needle not in error.lower():
            return f"{case.name}: error {str(body)[:200]!r} does not mention {case.needle!r}"
    return None


def check_socket(client: RecordingClient, case: Sock) -> str | None:
    """None when the message was answered by an `error` event naming the problem."""
    before = len(client.of("error"))
    if case.packet is not None:
        client.sio.eio.send(case.packet)
    elif case.raw is not None:
        raw = case.raw() if callable(case.raw) else case.raw
        client.sio.eio.send("2" + raw)  # a Socket.IO EVENT packet written by hand
    elif case.fresh_seq:
        client.sio.emit(case.event, ({**case.args[0], "seq": next(SEQS)},))
    else:
        client.sio.emit(case.event, case.args)
    deadline = time.monotonic() + ANSWER_TIMEOUT_S
    while len(client.of("error")) <= before:
        if time.monotonic() > deadline:
            return f"{case.name}: no answer in {ANSWER_TIMEOUT_S}s"
        time.sleep(0.02)
    error = client.of("error")[before]
    if case.needle not in str(error.get("error", "")).lower():
        return f"{case.name}: error {error!r} does not mention {case.needle!r}"
    return None


def assert_still_served(url: str, clients: list[RecordingClient], digits: Any) -> None:
    """A valid digit is still answered correctly over REST and by every socket client."""
    images, labels = digits
    seq = next(SEQS)
    i = seq % len(images)
    resp = requests.post(f"{url}/api/predict", json={"pixels": images[i].tolist()}, timeout=30)
    assert resp.status_code == 200, resp.text
    assert resp.json()["digit"] == int(labels[i])
    for client in clients:
        client.draw(images[i].tolist(), seq)
        pred = client.wait_for("prediction", lambda d: d["seq"] == seq, timeout=30)
        assert pred["digit"] == int(labels[i])


def test_corpus_is_big_enough() -> None:
    assert corpus_size() >= 150, corpus_size()


@pytest.mark.parametrize("name", list(REST_CLASSES))
def test_rest_class(stack, bystander, digits, name: str) -> None:  # type: ignore[no-untyped-def]
    failures = [f for case in REST_CLASSES[name]() if (f := check_rest(stack.url, case))]
    assert not failures, "\n".join(failures)
    assert_still_served(stack.url, [bystander], digits)


@pytest.mark.parametrize("name", list(SOCKET_CLASSES))
def test_socket_class(stack, attacker, bystander, digits, name: str) -> None:  # type: ignore[no-untyped-def]
    failures = [f for case in SOCKET_CLASSES[name]() if (f := check_socket(attacker, case))]
    assert not failures, "\n".join(failures)
    assert attacker.sio.connected
    assert_still_served(stack.url, [attacker, bystander], digits)


def test_bystander_lost_nothing(bystander) -> None:  # type: ignore[no-untyped-def]
    """Runs last in this module: the well-behaved client saw no error, and exactly one answer
    per class of cases (an answer meant for the attacker would push the count over)."""
    assert bystander.of("hello"), "the bystander was never connected"
    assert not bystander.of("error"), bystander.of("error")
    predictions = bystander.of("prediction")
    assert len(predictions) == len(REST_CLASSES) + len(SOCKET_CLASSES)
