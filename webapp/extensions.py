"""Flask extensions and clients bound in the factory, as Flask's own patterns do."""

from __future__ import annotations

from typing import Any

import redis
from celery import Celery
from flask import Flask, current_app
from flask_socketio import SocketIO

from shared.celery_app import make_celery
from shared.model_store import ModelStore
from shared.settings import Settings

socketio = SocketIO()


def async_mode() -> str:
    """gevent when `digitflow web` patched the process for it (webapp/server.py), else threads."""
    try:
        from gevent import monkey
    except ImportError:
        return "threading"
    return "gevent" if monkey.is_module_patched("socket") else "threading"


def init_extensions(app: Flask, settings: Settings) -> None:
    """Bind Socket.IO (with the Redis message queue workers emit through) and the clients."""
    from webapp.live import LiveFrames
    from webapp.message_queue import AnswerAwareRedisManager

    app.extensions["redis"] = redis.Redis.from_url(settings.redis_url)
    app.extensions["celery"] = make_celery(settings)
    app.extensions["store"] = ModelStore(settings.model_store)
    live = LiveFrames(app.extensions["redis"], app.extensions["celery"],
                      expires_s=settings.live_task_expires_s,
                      max_per_address=settings.max_connections_per_address,
                      spawn=socketio.start_background_task)
    app.extensions["live"] = live
    socketio.init_app(
        app,
        async_mode=async_mode(),
        message_queue=settings.redis_url,
        client_manager=AnswerAwareRedisManager(settings.redis_url, live.gate.answered),
        max_http_buffer_size=settings.max_request_bytes,
        cors_allowed_origins=None,
    )


def settings() -> Settings:
    return current_app.config["SETTINGS"]


def redis_client() -> redis.Redis:
    return current_app.extensions["redis"]


def celery() -> Celery:
    return current_app.extensions["celery"]


def store() -> ModelStore:
    return current_app.extensions["store"]


def live_frames() -> Any:
    """The process's LiveFrames (typed loosely to avoid an import cycle)."""
    return current_app.extensions["live"]


def send(task: str, *args: Any, _options: dict[str, Any] | None = None, **kwargs: Any) -> Any:
    """Send a task by name: the web process never imports the task code (or TensorFlow)."""
    return celery().send_task(task, args=args, kwargs=kwargs, **(_options or {}))
