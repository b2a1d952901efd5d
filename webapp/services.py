"""What the web process talks to (Redis, the task queue, the model store), built in one place.

`create_app` receives these ready-made, so a test can hand it fakeredis and a recording task
sender and drive every route in-process; production builds them from settings.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from typing import Any, Protocol

import redis
from flask import current_app

from shared import redis_conn
from shared.celery_app import CLASSIFY_FRAME_TASK, make_celery
from shared.events import announce_activation
from shared.model_store import ModelStore
from shared.settings import Settings
from webapp.frame_publisher import FramePublisher


class TaskSender(Protocol):
    """Send a task by name; returns something with `.get(timeout)` (a Celery AsyncResult)."""

    def __call__(self, name: str, args: list[Any], **options: Any) -> Any: ...


@dataclass
class Services:
    """The web process's clients; `message_queue` None keeps Socket.IO in this process only."""

    redis: redis.Redis
    send_task: TaskSender
    store: ModelStore
    announce_activation: Callable[[int], None]  # tell workers and pages a version is active
    message_queue: str | None
    # live frames: the same task message, one LPUSH (webapp/frame_publisher.py); None sends
    # them with send_task
    send_frame: TaskSender | None = None


def connect_services(settings: Settings) -> Services:
    """The production clients: the Redis and the Celery app named by settings."""
    celery = make_celery(settings)

    def send_task(name: str, args: list[Any], **options: Any) -> Any:
        return celery.send_task(name, args=args, **options)

    client = redis_conn.redis_client(settings.redis_url)
    return Services(redis=client, send_task=send_task,
                    store=ModelStore(settings.model_store),
                    announce_activation=partial(announce_activation, settings.redis_url),
                    message_queue=settings.redis_url,
                    send_frame=FramePublisher(celery, client, CLASSIFY_FRAME_TASK))


def settings() -> Settings:
    """The current app's settings."""
    return current_app.config["SETTINGS"]


def services() -> Services:
    """The current app's clients."""
    return current_app.extensions["digitflow"]


def redis_client() -> redis.Redis:
    """The current app's Redis client."""
    return services().redis


def store() -> ModelStore:
    """The current app's model store."""
    return services().store


def send(task: str, *args: Any, **options: Any) -> Any:
    """Send a task by name: the web process never imports the task code (or TensorFlow)."""
    return services().send_task(task, list(args), **options)
