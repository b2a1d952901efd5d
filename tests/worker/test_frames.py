"""The frames consumer: messages the web really publishes, decoded, batched and answered.

Decoding and serving are pure logic (unit tests, messages from the web's own FramePublisher
on fakeredis); taking messages and the consumer thread run against a real Redis. A real
worker answering frames this way end to end: tests/webapp/test_live.py and the browser tests.
"""

from __future__ import annotations

import base64
import json
import threading
import time
from collections.abc import Iterator
from typing import Any

import fakeredis
import pytest
import redis

from cli.embedded_redis import RedisServer
from shared.celery_app import CLASSIFY_CHUNK_TASK, CLASSIFY_FRAME_TASK, FRAMES_QUEUE, make_celery
from shared.settings import Settings
from webapp.frame_publisher import FramePublisher
from worker.frames import (
    FAILED,
    BadFrame,
    Frame,
    FrameConsumer,
    batchable,
    decode_frame,
    serve_frames,
    take_frames,
)

ITEM = {"pixels": [[0, 255], [255, 0]]}


def _published(client: redis.Redis, *frames: tuple[str, int, Any], expires: float = 10.0
               ) -> None:
    publish = FramePublisher(make_celery(Settings(redis_url="redis://127.0.0.1:1/0")), client,
                             CLASSIFY_FRAME_TASK)
    for sid, seq, item in frames:
        publish(CLASSIFY_FRAME_TASK, [sid, seq, item], expires=expires)


def _message(**changes: Any) -> bytes:
    """A real published frame message, with parts of its envelope replaced."""
    r = fakeredis.FakeRedis()
    _published(r, ("sid-1", 3, ITEM))
    envelope = json.loads(r.rpop(FRAMES_QUEUE))
    for path, value in changes.items():
        part, _, key = path.partition("__")
        if key:
            envelope[part][key] = value
        else:
            envelope[part] = value
    return json.dumps(envelope).encode()


def _body(args: Any, kwargs: Any = None) -> str:
    return base64.b64encode(json.dumps([args, kwargs or {}, {}]).encode()).decode()


# ------------------------------------------------------------------ decode_frame
def test_a_published_frame_decodes_to_its_arguments() -> None:
    assert decode_frame(_message(), time.time()) == Frame("sid-1", 3, ITEM)


def test_a_frame_past_its_expiry_is_dropped_not_computed() -> None:
    assert decode_frame(_message(), time.time() + 11) is None
    assert decode_frame(_message(), time.time() + 9) is not None


def test_keyword_arguments_and_the_optional_sent_at_are_accepted() -> None:
    raw = _message(body=_body(["sid-2"], {"seq": 4, "item": ITEM, "sent_at": 1.5}))
    assert decode_frame(raw, time.time()) == Frame("sid-2", 4, ITEM)


@pytest.mark.parametrize(("raw", "why"), [
    (b"not json", "not a task message"),
    (b"[1, 2]", "not a task message"),
    (json.dumps({"body": "", "properties": {}}).encode(), "not a task message"),
    (_message(body="%%%not base64"), "not a task message"),
    (_message(headers__task=CLASSIFY_CHUNK_TASK), "on the frames queue"),
    (_message(headers__expires="tomorrow"), "bad expiry"),
    (_message(body=_body(["sid", True, ITEM])), "integer seq"),
    (_message(body=_body([7, 1, ITEM])), "string sid"),
    (_message(body=_body(["sid", 1])), "without its item"),
    (_message(body=_body(["sid", 1, ITEM, 0.0, "extra"])), "do not match"),
    (_message(body=_body(["sid", 1, ITEM], {"shell": "rm"})), "do not match"),
    (_message(body=_body({"sid": "x"})), "not a list"),
])
def test_anything_else_on_the_queue_is_refused(raw: bytes, why: str) -> None:
    # `now` 0: these messages were built at collection time and must not expire first
    with pytest.raises(BadFrame, match=why):
        decode_frame(raw, 0.0)


def test_saliency_and_shadow_frames_take_their_own_path() -> None:
    assert batchable(ITEM) and batchable([[0]]) and batchable("data:...")
    assert not batchable({**ITEM, "explain": True})
    assert not batchable({**ITEM, "shadow": 2})


# ------------------------------------------------------------------ serve_frames
class Recorder:
    def __init__(self, fail_many: bool = False, fail_one: Any = None,
                 fail_answer: str | None = None) -> None:
        self.many: list[list[Any]] = []
        self.one: list[Any] = []
        self.answers: list[tuple[str, int, dict[str, Any]]] = []
        self.fail_many, self.fail_one, self.fail_answer = fail_many, fail_one, fail_answer

    def classify_many(self, items: list[Any]) -> list[dict[str, Any]]:
        self.many.append(items)
        if self.fail_many:
            raise RuntimeError("the pass failed")
        return [{"digit": i} for i in range(len(items))]

    def classify_one(self, item: Any) -> dict[str, Any]:
        self.one.append(item)
        if item == self.fail_one:
            raise RuntimeError("this one breaks the worker")
        return {"digit": 9}

    def answer(self, sid: str, seq: int, result: dict[str, Any]) -> None:
        if sid == self.fail_answer:
            raise redis.ConnectionError("Redis went away")
        self.answers.append((sid, seq, result))

    def serve(self, frames: list[Frame]) -> None:
        serve_frames(frames, self.classify_many, self.classify_one, self.answer)


def test_plain_frames_share_one_request_and_each_gets_its_own_answer() -> None:
    rec = Recorder()
    explain = {**ITEM, "explain": True}
    rec.serve([Frame("a", 1, ITEM), Frame("b", 5, explain), Frame("c", 2, [[1]])])
    assert rec.many == [[ITEM, [[1]]]]
    assert rec.one == [explain]
    assert rec.answers == [("a", 1, {"digit": 0}), ("c", 2, {"digit": 1}),
                           ("b", 5, {"digit": 9})]


def test_a_failed_shared_pass_is_retried_frame_by_frame() -> None:
    """One frame that breaks the pass costs only its own answer (an error, which also
    releases its client's frame gate); everyone else's is answered."""
    bad = {"pixels": "breaks the worker"}
    rec = Recorder(fail_many=True, fail_one=bad)
    rec.serve([Frame("a", 1, ITEM), Frame("b", 2, bad), Frame("c", 3, ITEM)])
    assert rec.one == [ITEM, bad, ITEM]
    assert rec.answers == [("a", 1, {"digit": 9}), ("b", 2, {"error": FAILED}),
                           ("c", 3, {"digit": 9})]


def test_an_answer_that_cannot_be_sent_costs_only_itself() -> None:
    rec = Recorder(fail_answer="b")
    rec.serve([Frame("a", 1, ITEM), Frame("b", 2, ITEM), Frame("c", 3, ITEM)])
    assert [a[0] for a in rec.answers] == ["a", "c"]


# ------------------------------------------------------------------ against a real Redis
@pytest.fixture()
def r(redis_server: RedisServer) -> Iterator[redis.Redis]:
    client = redis.Redis.from_url(redis_server.url.rsplit("/", 1)[0] + "/13")
    client.delete(FRAMES_QUEUE)
    yield client
    client.delete(FRAMES_QUEUE)


@pytest.mark.integration
def test_a_take_pops_the_oldest_frames_first_in_one_round_trip(r: redis.Redis) -> None:
    _published(r, *[(f"s{i}", i, ITEM) for i in range(5)])
    first = [decode_frame(m, time.time()) for m in take_frames(r, most=3)]
    assert [f.seq for f in first if f] == [0, 1, 2]
    assert [decode_frame(m, time.time()).seq for m in take_frames(r, most=3)] == [3, 4]
    started = time.monotonic()
    assert take_frames(r, most=3, timeout=0.2) == []
    assert time.monotonic() - started >= 0.15  # it blocked, as BRPOP does, then gave up


@pytest.mark.integration
def test_the_consumer_serves_what_waits_and_survives_bad_messages(r: redis.Redis) -> None:
    served: list[Frame] = []
    done = threading.Event()

    def serve(frames: list[Frame]) -> None:
        served.extend(frames)
        if any(f.seq == -1 for f in frames):
            raise RuntimeError("a bug in serving")  # the thread must go on
        if len(served) >= 4:
            done.set()

    r.lpush(FRAMES_QUEUE, b"garbage")
    _published(r, ("old", 0, ITEM), expires=0.001)
    time.sleep(0.01)
    _published(r, ("x", -1, ITEM), ("a", 1, ITEM), ("b", 2, ITEM))
    consumer = FrameConsumer(r, serve)
    consumer.start(threads=1)
    try:
        deadline = time.monotonic() + 5
        while len(served) < 3 and time.monotonic() < deadline:
            time.sleep(0.01)
        _published(r, ("c", 3, ITEM))  # after a failed serve: the thread still takes frames
        assert done.wait(5), served
    finally:
        consumer.stop()
    assert [(f.sid, f.seq) for f in served] == [("x", -1), ("a", 1), ("b", 2), ("c", 3)]
    assert consumer.expired == 1
