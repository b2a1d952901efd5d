"""Queue depths from kombu's Redis lists: the names checked against a real broker."""

from __future__ import annotations

import fakeredis
import pytest
import redis

from cli.embedded_redis import RedisServer
from shared.celery_app import (
    CLASSIFY_CHUNK_TASK,
    CLASSIFY_FRAME_TASK,
    PREDICT_TASK,
    make_celery,
)
from shared.queue_depth import priority_keys, queue_state
from shared.settings import Settings


def test_every_priority_step_is_counted() -> None:
    r = fakeredis.FakeRedis()
    for key in priority_keys("live"):
        r.lpush(key, "m")
    depths, taken = queue_state(r)
    assert depths == {"live": 4, "batch": 0, "training": 0} and taken == 0


def test_waiting_live_frames_count_as_live_work() -> None:
    r = fakeredis.FakeRedis()
    r.lpush("frames", "f1", "f2")
    r.lpush("live", "p1")
    assert queue_state(r)[0] == {"live": 3, "batch": 0, "training": 0}


@pytest.mark.integration
def test_the_keys_match_what_celery_writes(redis_server: RedisServer) -> None:
    """Send real tasks (no worker on this database) and look at the keys Redis holds."""
    url = redis_server.url.rsplit("/", 1)[0] + "/11"
    r = redis.Redis.from_url(url)
    for key in r.scan_iter():
        r.delete(key)
    celery = make_celery(Settings(redis_url=url))
    celery.send_task(PREDICT_TASK, args=[{}])
    celery.send_task(PREDICT_TASK, args=[{}], priority=5)
    celery.send_task(CLASSIFY_CHUNK_TASK, args=["x", 0], priority=9)
    celery.send_task(CLASSIFY_FRAME_TASK, args=["sid", 1, {}])
    keys = {k.decode() for k in r.scan_iter()}
    assert {"live", "frames", priority_keys("live")[1], priority_keys("batch")[3]} <= keys
    assert queue_state(r)[0] == {"live": 3, "batch": 1, "training": 0}
    for key in r.scan_iter():
        r.delete(key)
