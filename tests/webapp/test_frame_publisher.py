"""The live-frame publisher puts on the queue what `Celery.send_task` would (real Redis).

The end-to-end live tests (test_live.py and the browser tests) then show a real worker
answering frames sent this way.
"""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime, timedelta

import pytest
import redis
from kombu import Queue

from shared.celery_app import (
    CLASSIFY_CHUNK_TASK,
    CLASSIFY_FRAME_TASK,
    FRAMES_QUEUE,
    make_celery,
)
from shared.settings import Settings
from webapp.frame_publisher import FramePublisher

pytestmark = pytest.mark.integration

# What differs between two messages of the same task by design: fresh ids and timestamps,
# the argument repr (the publisher never logs the drawing) and the reply queue (the task's
# result is ignored, so nothing is ever sent there).
PER_MESSAGE = {"id", "root_id", "expires", "argsrepr", "correlation_id", "delivery_tag",
               "reply_to"}


@pytest.fixture()
def url(redis_server):  # type: ignore[no-untyped-def]
    url = redis_server.url.rsplit("/", 1)[0] + "/14"
    client = redis.Redis.from_url(url)
    client.delete(FRAMES_QUEUE)
    yield url
    client.delete(FRAMES_QUEUE)


def _pop(client: redis.Redis) -> dict:
    raw = client.rpop(FRAMES_QUEUE)
    assert raw is not None, "nothing on the frames queue"
    return json.loads(raw)


def test_the_message_is_the_one_send_task_sends(url: str) -> None:
    celery = make_celery(Settings(redis_url=url))
    client = redis.Redis.from_url(url)
    publish = FramePublisher(celery, client, CLASSIFY_FRAME_TASK)
    args = ["sid-1", 7, {"image": "data:image/png;base64,AAAA"}]

    celery.send_task(CLASSIFY_FRAME_TASK, args=args, ignore_result=True, expires=10.0)
    task_id = publish(CLASSIFY_FRAME_TASK, args, expires=10.0)
    assert client.llen(FRAMES_QUEUE) == 2
    theirs, ours = _pop(client), _pop(client)  # LPUSH + RPOP: oldest (send_task's) first

    assert ours.keys() == theirs.keys()
    assert {k: v for k, v in ours.items() if k not in ("headers", "properties", "body")} == \
        {k: v for k, v in theirs.items() if k not in ("headers", "properties", "body")}
    assert base64.b64decode(ours["body"]) == base64.b64decode(theirs["body"])
    for part in ("headers", "properties"):
        assert ours[part].keys() == theirs[part].keys(), part
        differ = {k for k in ours[part] if ours[part][k] != theirs[part][k]}
        assert differ <= PER_MESSAGE, (part, differ)
    assert ours["headers"]["id"] == ours["headers"]["root_id"] == task_id
    assert ours["properties"]["correlation_id"] == task_id
    assert "base64" not in ours["headers"]["argsrepr"]  # the drawing stays out of logs
    expires = datetime.fromisoformat(ours["headers"]["expires"])
    now = datetime.now(UTC)
    assert now < expires <= now + timedelta(seconds=10)


def test_only_its_own_task_and_a_direct_route(url: str) -> None:
    celery = make_celery(Settings(redis_url=url))
    client = redis.Redis.from_url(url)
    publish = FramePublisher(celery, client, CLASSIFY_FRAME_TASK)
    with pytest.raises(ValueError, match="classify_frame"):
        publish(CLASSIFY_CHUNK_TASK, [], expires=10.0)
    with pytest.raises(ValueError, match="ignore_result"):
        publish(CLASSIFY_FRAME_TASK, [], expires=10.0, ignore_result=False)
    assert client.llen(FRAMES_QUEUE) == 0
    # a route through a named exchange is not the layout this publisher builds
    rerouted = make_celery(Settings(redis_url=url))
    rerouted.conf.task_routes = {CLASSIFY_FRAME_TASK: {
        "queue": Queue("elsewhere", routing_key="other")}}
    with pytest.raises(ValueError, match="send_task"):
        FramePublisher(rerouted, client, CLASSIFY_FRAME_TASK)
