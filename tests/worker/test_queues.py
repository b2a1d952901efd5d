"""Queue isolation as data: which task goes where, and what a worker may be told to serve."""

from __future__ import annotations

import pytest

from shared.celery_app import (
    BATCH_QUEUE,
    CLASSIFY_CHUNK_TASK,
    CLASSIFY_FRAME_TASK,
    FRAMES_QUEUE,
    LIVE_QUEUE,
    PREDICT_TASK,
    RETRAIN_TASK,
    TRAINING_QUEUE,
    make_celery,
)
from shared.settings import Settings
from worker.run import parse_queues


@pytest.mark.parametrize(("task", "queue"), [
    (CLASSIFY_FRAME_TASK, FRAMES_QUEUE),
    (PREDICT_TASK, LIVE_QUEUE),
    (CLASSIFY_CHUNK_TASK, BATCH_QUEUE),
    (RETRAIN_TASK, TRAINING_QUEUE),
])
def test_tasks_are_routed_by_who_waits_for_them(task: str, queue: str) -> None:
    app = make_celery(Settings(redis_url="redis://127.0.0.1:1/0"))
    assert app.amqp.router.route({}, task)["queue"].name == queue


def test_workers_take_one_message_per_free_thread_and_serve_queues_in_order() -> None:
    conf = make_celery(Settings(redis_url="redis://127.0.0.1:1/0")).conf
    assert conf.worker_prefetch_multiplier == 1 and conf.worker_disable_prefetch
    assert conf.broker_transport_options["queue_order_strategy"] == "priority"


@pytest.mark.parametrize(("spec", "queues"), [
    ("live", ["live"]), ("batch", ["batch"]), ("live,batch", ["live", "batch"]),
    (" live , batch ", ["live", "batch"]),
])
def test_queue_specs(spec: str, queues: list[str]) -> None:
    assert parse_queues(spec) == queues


@pytest.mark.parametrize("spec", ["", "inference", "live,live", "live,training"])
def test_bad_queue_specs_are_refused(spec: str) -> None:
    with pytest.raises(ValueError, match="--queues"):
        parse_queues(spec)


def test_live_messages_skip_the_unacked_bookkeeping_that_batches_keep() -> None:
    """A live task expires long before kombu would redeliver it; a chunk must not be lost."""
    conf = make_celery(Settings(redis_url="redis://127.0.0.1:1/0")).conf
    no_ack = {q.name: q.no_ack for q in conf.task_queues}
    assert no_ack == {LIVE_QUEUE: True, FRAMES_QUEUE: True, BATCH_QUEUE: False,
                      TRAINING_QUEUE: False}
    assert conf.task_acks_late and conf.task_reject_on_worker_lost
    assert Settings().live_task_expires_s < Settings().visibility_timeout_s
