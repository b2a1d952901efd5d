"""Publishing events from any process (worker, trainer, CLI) to browsers and workers.

Browsers are reached through Flask-SocketIO's Redis message queue: an emitter created with
`message_queue=` and no app, exactly as Flask-SocketIO documents for external processes.
"""

from __future__ import annotations

import logging
from functools import lru_cache
from typing import Any

from shared.redis_conn import redis_client
from shared.redis_keys import ACTIVATION_CHANNEL, SOCKETIO_CHANNEL

log = logging.getLogger(__name__)


@lru_cache(maxsize=4)
def _emitter(url: str) -> Any:
    from flask_socketio import SocketIO

    return SocketIO(message_queue=url, channel=SOCKETIO_CHANNEL)


def emit(url: str, event: str, data: dict[str, Any], to: str | None = None) -> None:
    """Emit a Socket.IO event, through the queue at `url`, to one room or to everyone."""
    _emitter(url).emit(event, data, to=to)


def announce_activation(url: str, version: int) -> None:
    """Tell workers (pub/sub) and every open page (Socket.IO) that `version` is active."""
    redis_client(url).publish(ACTIVATION_CHANNEL, str(version))
    emit(url, "model_activated", {"version": version})
    log.info("announced model version %d", version)
