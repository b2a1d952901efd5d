"""The live path end to end: Socket.IO client -> web -> Redis/Celery -> worker -> client.

Real redis-server, real Celery worker with the bundled model, real Flask-SocketIO server.
"""

from __future__ import annotations

import base64
import math

import pytest

from devtools.sio import RecordingClient
from shared.celery_app import CLASSIFY_FRAME_TASK, make_celery
from shared.mnist import load_mnist
from shared.settings import Settings

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def digits(mnist_dir):  # type: ignore[no-untyped-def]
    test = load_mnist("test", mnist_dir)
    return test.images[:40], test.labels[:40]


@pytest.fixture()
def client(stack):  # type: ignore[no-untyped-def]
    c = RecordingClient(stack.url)
    yield c
    c.close()


def test_hello_names_the_model_version(client) -> None:  # type: ignore[no-untyped-def]
    hello = client.wait_for("hello")
    assert isinstance(hello["model_version"], int)


def test_mnist_digits_are_classified_for_their_seq(client, digits) -> None:  # type: ignore[no-untyped-def]
    images, labels = digits
    right = 0
    for seq, (img, label) in enumerate(zip(images, labels, strict=True), start=1):
        client.draw(img.tolist(), seq)
        pred = client.wait_for("prediction", lambda d, s=seq: d["seq"] == s)
        assert len(pred["probabilities"]) == 10
        assert math.isclose(sum(pred["probabilities"]), 1.0, abs_tol=1e-3)
        assert isinstance(pred["model_version"], int)
        assert len(base64.b64decode(pred["image28_b64"])) == 28 * 28
        right += pred["digit"] == int(label)
    assert right >= len(labels) - 1, f"only {right}/{len(labels)} right"


def test_two_clients_never_see_each_others_predictions(stack, digits) -> None:  # type: ignore[no-untyped-def]
    images, labels = digits
    a, b = RecordingClient(stack.url), RecordingClient(stack.url)
    try:
        for i in range(15):
            a.draw(images[i].tolist(), 1000 + i)
            b.draw(images[i + 15].tolist(), 5000 + i)
        a.wait_for("prediction", lambda d: d["seq"] == 1014)
        b.wait_for("prediction", lambda d: d["seq"] == 5014)
        assert a.of("prediction") and b.of("prediction")
        assert all(1000 <= d["seq"] < 1015 for d in a.of("prediction"))
        assert all(5000 <= d["seq"] < 5015 for d in b.of("prediction"))
        # the newest frame of each client is always answered, with the right digit
        assert a.of("prediction")[-1]["digit"] == int(labels[14])
        assert b.of("prediction")[-1]["digit"] == int(labels[29])
    finally:
        a.close()
        b.close()


def test_empty_canvas_gets_an_explicit_empty_answer(client) -> None:  # type: ignore[no-untyped-def]
    client.draw([[0] * 112 for _ in range(112)], 7)
    pred = client.wait_for("prediction", lambda d: d["seq"] == 7)
    assert pred["digit"] is None


@pytest.mark.parametrize(
    ("frame", "needle"),
    [
        ({"pixels": [[1, 2, 3]] * 3, "seq": 1}, "between 8x8"),
        ({"pixels": [[float("nan")] * 10] * 10, "seq": 2}, "NaN"),
        ({"pixels": [[300] * 10] * 10, "seq": 3}, "between 0 and 255"),
        ({"pixels": [[1] * 10, [1] * 9] * 5, "seq": 4}, "same length"),
        ({"pixels": [[0] * 1100] * 10, "seq": 5}, "too large"),
        ({"image": "data:image/png;base64," + base64.b64encode(b"\x89PNGjunk").decode(),
          "seq": 6}, "corrupt"),
        ({"pixels": [[0] * 10] * 10, "seq": 8, "colour": "red"}, "unknown field"),
        ({"pixels": [[0] * 10] * 10}, "seq"),
        ("not an object", "seq"),
    ],
)
def test_bad_frames_get_error_events(client, digits, frame, needle) -> None:  # type: ignore[no-untyped-def]
    client.sio.emit("draw", frame)
    err = client.wait_for("error")
    assert needle.lower() in err["error"].lower()
    # the worker is alive and the client still served
    client.draw(digits[0][0].tolist(), 100)
    assert client.wait_for("prediction", lambda d: d["seq"] == 100)["digit"] == int(digits[1][0])


def test_worker_survives_bad_input_that_skips_web_validation(stack, client, digits) -> None:  # type: ignore[no-untyped-def]
    """Whatever lands on the queue, a worker answers with an error and keeps serving."""
    celery = make_celery(Settings(redis_url=stack.redis_url))
    sid = client.sio.get_sid()
    for seq, item in enumerate([{"pixels": "junk"}, {"image": 12}, {}, {"pixels": [[None]]}], 1):
        celery.send_task(CLASSIFY_FRAME_TASK, args=[sid, seq, item, None])
        err = client.wait_for("error", lambda d, s=seq: d["seq"] == s)
        assert err["error"]
    client.draw(digits[0][3].tolist(), 50)
    assert client.wait_for("prediction", lambda d: d["seq"] == 50)["digit"] == int(digits[1][3])
    assert stack.workers[0].poll() is None
