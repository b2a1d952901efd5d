"""The single Celery app, and the names every process uses to reach it: queues and tasks.

The web process only *sends* tasks by name, so nothing here may import TensorFlow; the task
modules listed in `include` are imported by worker processes alone. No app is built at import
time: each process builds its one app at start-up with `make_celery(settings)`, and the
`@shared_task` functions bind to it.
"""

from __future__ import annotations

from celery import Celery
from kombu import Exchange, Queue

from shared.kombu_guard import install as install_kombu_guard
from shared.settings import Settings

LIVE_QUEUE = "live"  # REST predictions and reviews: someone is waiting for each answer
# Live `draw` frames: a worker serving `live` pops these itself, many at a time (worker/frames.py)
FRAMES_QUEUE = "frames"
BATCH_QUEUE = "batch"  # batch chunks: throughput, never in front of a live frame
TRAINING_QUEUE = "training"
INFERENCE_QUEUES = (LIVE_QUEUE, BATCH_QUEUE)  # a default worker serves both, live first

# Task names: the only spelling of each, used by `@shared_task(name=...)` and by every sender.
PREDICT_TASK = "worker.tasks.predict"
CLASSIFY_FRAME_TASK = "worker.tasks.classify_frame"
CLASSIFY_CHUNK_TASK = "worker.tasks.classify_chunk"
SHADOW_REVIEW_TASK = "worker.tasks.shadow_review"  # an admin waits for it, like a predict
RETRAIN_TASK = "trainer.tasks.retrain"

# Redis client sockets, for the broker and the result backend alike: give up on a connect
# after 5 s and on a silent peer after 30 s (longer than kombu's 1 s BRPOP and any reply),
# keep TCP keepalive on so a dead peer behind a NAT or firewall is noticed, and PING an idle
# pooled connection before reuse when it has been idle for 10 s (redis-py health checks).
REDIS_SOCKET_CONNECT_TIMEOUT_S = 5
REDIS_SOCKET_TIMEOUT_S = 30
REDIS_HEALTH_CHECK_INTERVAL_S = 10

TASK_ROUTES = {
    CLASSIFY_FRAME_TASK: {"queue": FRAMES_QUEUE},
    PREDICT_TASK: {"queue": LIVE_QUEUE},
    SHADOW_REVIEW_TASK: {"queue": LIVE_QUEUE},
    CLASSIFY_CHUNK_TASK: {"queue": BATCH_QUEUE},
    "trainer.tasks.*": {"queue": TRAINING_QUEUE},
}
SETTINGS_KEY = "digitflow_settings"


def task_queues() -> list[Queue]:
    """The queues; live ones (`live`, `frames`) are consumed without acknowledgement
    (`no_ack`).

    kombu's Redis transport keeps every acknowledged-later message in an "unacked" hash and
    sorted set (one MULTI/EXEC when it is delivered, another when it is acked) so it can be
    redelivered after `visibility_timeout` (120 s). A live frame or REST prediction expires
    after `LIVE_TASK_EXPIRES_S` (10 s), so a redelivered one would only be dropped: for them
    that bookkeeping bought nothing and cost two Redis transactions per frame. Batch chunks and
    training jobs keep it (late acks, redelivery after a crash).
    """
    return [Queue(LIVE_QUEUE, routing_key=LIVE_QUEUE, no_ack=True),
            # its own direct exchange (Celery would give it the default queue's, `live`): the
            # web publishes frames straight to the list (webapp/frame_publisher.py)
            Queue(FRAMES_QUEUE, Exchange(FRAMES_QUEUE), routing_key=FRAMES_QUEUE, no_ack=True),
            Queue(BATCH_QUEUE, routing_key=BATCH_QUEUE),
            Queue(TRAINING_QUEUE, routing_key=TRAINING_QUEUE)]


def make_celery(settings: Settings) -> Celery:
    """Build the Celery app from settings: JSON only, late acks, explicit queue routing."""
    # kombu's Redis transport can kill or stall a worker on reconnect: see shared/kombu_guard.py.
    install_kombu_guard()
    app = Celery("digitflow", include=["worker.tasks", "trainer.tasks"])
    app.conf.update(
        broker_url=settings.redis_url,
        result_backend=settings.redis_url,
        task_serializer="json",
        result_serializer="json",
        accept_content=["json"],
        result_accept_content=["json"],
        task_queues=task_queues(),
        task_routes=TASK_ROUTES,
        task_default_queue=LIVE_QUEUE,
        # A worker killed mid-task must not lose a batch chunk or a training job: ack only
        # after it ran, and requeue when the worker process dies (live tasks: see task_queues).
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
            "socket_connect_timeout": REDIS_SOCKET_CONNECT_TIMEOUT_S,
            "socket_timeout": REDIS_SOCKET_TIMEOUT_S,
            "socket_keepalive": True,
            "health_check_interval": REDIS_HEALTH_CHECK_INTERVAL_S,
            "retry_on_timeout": True,
        },
        result_expires=settings.batch_ttl_s,
        # One result backend per process, not one per thread: the web runs each request in
        # its own greenlet, and a new backend per sent task (Celery's default) cost ~20% of
        # the web's CPU per live frame. redis-py's pool is safe to share.
        result_backend_thread_safe=True,
        # Survive Redis going away (issue 9): retry the broker connection at start-up and
        # after a loss, forever (None), instead of Celery's default of 100 attempts and exit.
        # `broker_heartbeat` is AMQP-only; on Redis the socket options above do that job.
        broker_connection_retry=True,
        broker_connection_retry_on_startup=True,
        broker_connection_max_retries=None,
        broker_connection_timeout=REDIS_SOCKET_CONNECT_TIMEOUT_S,
        # The result backend (REST predictions, task state) retries too, with a short cap on
        # the back-off so a result is written within ~1 s of Redis coming back.
        result_backend_always_retry=True,
        result_backend_max_retries=120,
        result_backend_base_sleep_between_retries_ms=50,
        result_backend_max_sleep_between_retries_ms=1000,
        redis_socket_connect_timeout=REDIS_SOCKET_CONNECT_TIMEOUT_S,
        redis_socket_timeout=REDIS_SOCKET_TIMEOUT_S,
        redis_socket_keepalive=True,
        redis_retry_on_timeout=True,
        redis_backend_health_check_interval=REDIS_HEALTH_CHECK_INTERVAL_S,
        worker_hijack_root_logger=False,
        task_track_started=False,
    )
    app.conf[SETTINGS_KEY] = settings  # tasks read the start-up settings from their app
    return app


def app_settings(app: Celery) -> Settings:
    """The settings the process built its Celery app with (tasks call this, not the env)."""
    return app.conf[SETTINGS_KEY]
