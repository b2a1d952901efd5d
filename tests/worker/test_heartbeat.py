"""The heartbeat records a worker only when its own ping came back through the broker."""

from __future__ import annotations

import fakeredis

from shared.redis_keys import WORKER_TTL_S, worker_heartbeat
from worker.heartbeat import answered, beat_if_consuming


class Control:
    """Stands in for Celery's remote control: returns canned ping replies."""

    def __init__(self, replies: list[dict[str, object]] | None) -> None:
        self.replies = replies
        self.calls: list[list[str]] = []

    def ping(self, destination: list[str], timeout: float) -> list[dict[str, object]] | None:
        self.calls.append(destination)
        return self.replies


class App:
    def __init__(self, replies: list[dict[str, object]] | None) -> None:
        self.control = Control(replies)


def test_answered() -> None:
    assert answered([{"w1@test": {"ok": "pong"}}], "w1@test")
    assert not answered([{"w2@test": {"ok": "pong"}}], "w1@test")
    assert not answered([], "w1@test")
    assert not answered(None, "w1@test")


def test_a_pong_records_the_worker_with_a_short_ttl() -> None:
    r = fakeredis.FakeRedis()
    app = App([{"w1@test": {"ok": "pong"}}])
    assert beat_if_consuming(app, r, "w1@test", version=3)  # type: ignore[arg-type]
    assert app.control.calls == [["w1@test"]]
    assert 0 < r.ttl(worker_heartbeat("w1@test")) <= WORKER_TTL_S


def test_no_pong_records_nothing() -> None:
    r = fakeredis.FakeRedis()
    assert not beat_if_consuming(App([]), r, "w1@test", version=3)  # type: ignore[arg-type]
    assert not r.exists(worker_heartbeat("w1@test"))


def test_a_worker_without_a_model_is_not_ready() -> None:
    r = fakeredis.FakeRedis()
    app = App([{"w1@test": {"ok": "pong"}}])
    assert not beat_if_consuming(app, r, "w1@test", version=None)  # type: ignore[arg-type]
    assert not app.control.calls


def test_the_record_carries_items_and_their_rate() -> None:
    import json

    from worker.heartbeat import ItemRate

    rate = ItemRate()
    assert rate.update(100.0, 50) is None  # one reading is not a rate
    assert rate.update(102.0, 250) == 100.0
    r = fakeredis.FakeRedis()
    app = App([{"w1@test": {"ok": "pong"}}])
    assert beat_if_consuming(app, r, "w1@test", 3, items=250, items_per_s=100.0)  # type: ignore[arg-type]
    record = json.loads(r.get(worker_heartbeat("w1@test")))
    assert record["version"] == 3 and record["items"] == 250 and record["items_per_s"] == 100.0
