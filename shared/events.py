"""Publishing events from any process (worker, trainer, CLI) to browsers and workers.

Browsers are reached through Flask-SocketIO's Redis message queue: an emitter created with
`message_queue=` and no app, exactly as Flask-SocketIO documents for external processes.
"""

from __future__ import annotations

import logging
from functools import lru_cache
from typing import Any

import redis

from shared.redis_keys import ACTIVATION_CHANNEL
from shared.settings import get_settings

log = logging.getLogger(__name__)


@lru_cache(maxsize=4)
def redis_client(url: str | None = None) -> redis.Redis:
    """One pooled client per URL and process."""
    return redis.Redis.from_url(url or get_settings().redis_url)


@lru_cache(maxsize=4)
def _emitter(url: str) -> Any:
    from flask_socketio import SocketIO

    return SocketIO(message_queue=url)


def emit(event: str, data: dict[str, Any], to: str | None = None, url: str | None = None) -> None:
    """Emit a Socket.IO event to one room (a client's sid, a batch id) or to everyone."""
    _emitter(url or get_settings().redis_url).emit(event, data, to=to)


def announce_activation(version: int, url: str | None = None) -> None:
    """Tell workers (pub/sub) and every open page (Socket.IO) that `version` is active."""
    url = url or get_settings().redis_url
    redis_client(url).publish(ACTIVATION_CHANNEL, str(version))
    emit("model_activated", {"version": version}, url=url)
    log.info("announced model version %d", version)
