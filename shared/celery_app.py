"""The single Celery app, shared by the web process (as a client), the workers and the trainer.

The web process imports this module only to *send* tasks by name, so nothing here may import
TensorFlow; the task modules listed in `include` are imported by worker processes alone.
"""

from __future__ import annotations

from celery import Celery
from kombu import Queue

from shared.settings import Settings, get_settings

LIVE_QUEUE = "live"  # live frames and REST predictions: someone is waiting for each answer
BATCH_QUEUE = "batch"  # batch chunks: throughput, never in front of a live frame
TRAINING_QUEUE = "training"
INFERENCE_QUEUES = (LIVE_QUEUE, BATCH_QUEUE)  # a default worker serves both, live first

TASK_ROUTES = {
    "worker.tasks.classify_frame": {"queue": LIVE_QUEUE},
    "worker.tasks.predict": {"queue": LIVE_QUEUE},
    "worker.tasks.classify_chunk": {"queue": BATCH_QUEUE},
    "trainer.tasks.*": {"queue": TRAINING_QUEUE},
}


def make_celery(settings: Settings | None = None) -> Celery:
    """Build the Celery app from settings: JSON only, late acks, explicit queue routing."""
    settings = settings or get_settings()
    app = Celery("digitflow", include=["worker.tasks", "trainer.tasks"])
    app.conf.update(
        broker_url=settings.redis_url,
        result_backend=settings.redis_url,
        task_serializer="json",
        result_serializer="json",
        accept_content=["json"],
        result_accept_content=["json"],
        task_queues=[Queue(q, routing_key=q) for q in (*INFERENCE_QUEUES, TRAINING_QUEUE)],
        task_routes=TASK_ROUTES,
        task_default_queue=LIVE_QUEUE,
        # A worker killed mid-task must not lose the task: ack only after it ran, and
        # requeue when the worker process dies.
        task_acks_late=True,
        task_reject_on_worker_lost=True,
        # Live first: a worker takes a message only when a thread is free (no prefetched
        # batch chunks waiting in its memory in front of a live frame), and then BRPOPs its
        # queues in the order given (`-Q live,batch`), never round-robin.
        worker_prefetch_multiplier=1,
        worker_disable_prefetch=True,
        # A task whose worker died is handed to another worker once it has been unacked for
        # `visibility_timeout` s; sweep for such tasks every few seconds, not kombu's ~100 s.
        broker_transport_options={
            "visibility_timeout": settings.visibility_timeout_s,
            "unacked_restore_interval": 2,
            "unacked_restore_throttle": 1,
            # the sweep mutex of a SIGKILLed worker must not block everyone else for 5 min
            "unacked_mutex_expire": 15,
            "queue_order_strategy": "priority",
        },
        result_expires=settings.batch_ttl_s,
        # One result backend per process, not one per thread: the web runs each request in
        # its own greenlet, and a new backend per sent task (Celery's default) cost ~20% of
        # the web's CPU per live frame. redis-py's pool is safe to share.
        result_backend_thread_safe=True,
        broker_connection_retry_on_startup=True,
        worker_hijack_root_logger=False,
        task_track_started=False,
    )
    return app


celery_app = make_celery()
