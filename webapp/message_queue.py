"""The Socket.IO Redis message queue, told when a worker's answer reaches a client.

Workers emit `prediction`/`error` to a client's room through Redis; every web process relays
them. This subclass lets the frame gate learn that a client's frame was answered, so the
client's next waiting frame can go out. The listener only relays and tells the gate: the gate
spawns the next frame's dispatch elsewhere, so nothing here ever decodes or validates, and
one client's input cannot delay another client's answers. Messages stay JSON.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import redis
import socketio

from shared.redis_keys import SOCKETIO_CHANNEL

ANSWER_EVENTS = ("prediction", "error")
PUBLISH_CONNECTIONS = 32  # Redis connections for this process's own emits; more callers wait


class AnswerAwareRedisManager(socketio.RedisManager):
    """A RedisManager that reports answers addressed to one client."""

    def __init__(self, url: str, on_answer: Callable[[str], None], **kwargs: Any) -> None:
        super().__init__(url, channel=SOCKETIO_CHANNEL, **kwargs)
        self._on_answer = on_answer

    def _redis_connect(self) -> None:
        """Like the base class, with a pool that waits for a free connection.

        Every emit of the web process (a `hello` per connection, errors) is a PUBLISH. With
        gevent, a burst of connections publishes from hundreds of greenlets at once; redis-py's
        default pool then fails with "Too many connections", and the base class answers a failed
        publish by reconnecting, which also drops the listener that relays workers' answers.
        """
        if not self.redis_url.startswith(("redis://", "rediss://", "unix://")):
            super()._redis_connect()  # sentinel and valkey URLs: the library's own way
            return
        pool = redis.BlockingConnectionPool.from_url(
            self.redis_url, max_connections=PUBLISH_CONNECTIONS, timeout=30,
            **self.redis_options)
        self.redis = redis.Redis(connection_pool=pool)
        self.pubsub = self.redis.pubsub(ignore_subscribe_messages=True)
        self.connected = True

    def _handle_emit(self, message: dict[str, Any]) -> None:
        super()._handle_emit(message)
        room = message.get("room")
        if message.get("event") in ANSWER_EVENTS and isinstance(room, str):
            try:
                self._on_answer(room)
            except Exception:
                self._get_logger().exception("frame gate failed after an answer to %s", room)
