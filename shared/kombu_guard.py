"""The one workaround for kombu's Redis reconnect bug (issue 9); delete it once kombu fixes it.

The bug (kombu 5.7.0, Celery 5.7.0, redis-py 8.1.0; the family of celery #8030, #9054,
#10205/#10302 and kombu #582): when Redis dies while a worker has a BRPOP in flight,
Celery's `on_connection_error_after_connected` first calls `connection.collect()`. There the
Redis channel's `close()` raises a ConnectionError from `_brpop_read()` *before* it marks itself
closed, and `collect()` then detaches the transport (`transport.client = None`). Celery next
calls `connection.close()`, which closes the same channel again; this time it gets as far as
restoring the unacked messages, asks for a new connection pool, and `_connparams()` reads
`self.connection.client.hostname` on a None client: AttributeError. That is not a connection
error, so Celery treats it as fatal ("Unrecoverable error") and the worker stops for good.

The guard has two parts, both here:

1. A channel whose transport was detached raises redis's ConnectionError instead of the
   AttributeError. That is the truth (the connection is gone), and every caller on that path
   already handles connection errors: the close goes on, and the consumer reconnects with
   `broker_connection_retry`.
2. The messages the closing channel could not put back (Redis was down) stay in Redis's
   unacked hash, where kombu would restore them only after `visibility_timeout` (120 s by
   default): a batch would stall for two minutes after a 3-second outage. So their delivery
   tags are remembered, and the first periodic `restore_visible` sweep after the reconnect
   restores them (kombu's own `restore_by_tag`, a WATCHed transaction: a message that was
   acked meanwhile is simply gone from the hash and is not restored). This finishes what
   kombu's close would have done had Redis been up.
3. An ack that fails because the connection is gone (a task that finished during or just after
   the outage) used to keep its prefetch credit for ever: the consumer, its prefetch window
   full, never polled the dead socket again, so it never noticed the loss and stalled while
   its heartbeat thread still reported it alive (the stall of celery #8030/#9054). Now the
   credit is freed, so the consumer polls, sees the loss and reconnects, and the message is
   treated like the others above: restored after the reconnect. That is the at-least-once
   delivery `acks_late` promises (the task may run twice; digitflow's result writes are
   idempotent), and what kombu itself does after `visibility_timeout`, only sooner.
4. A broadcast (pidbox) read never blocks. Once in 17 kill-and-restart runs of
   bench/recovery.py a worker's consumer never noticed the outage: py-spy showed its main
   thread blocked in `Channel._receive_one` -> `PubSub.parse_response(block=True)`, whose
   `try_read` calls `connection.connect()` first, so redis-py had silently reconnected the
   PubSub to the restarted Redis and then waited for a message that never came. Now a PubSub
   connection that lost its socket raises ConnectionError (kombu reconnects the whole consumer)
   and one with nothing to read raises Empty (kombu's "no message"), instead of a blocking read.

Not a bug, a gap: kombu's virtual transports honour a queue's `no_ack` when a message is
delivered (no unacked bookkeeping) but not when Celery acks it afterwards: the ack still ran a
MULTI/ZREM/HDEL/EXEC on Redis for nothing. AMQP transports skip it through the channel's
`no_ack_consumers`, which `kombu.Message.ack` checks; the Redis channel now fills that set too
(the live queue is consumed with `no_ack`, see shared/celery_app.py).

Not a bug, a cadence (Celery has no setting for it): a consumer retries its broker connection
after 2 s, then 4, 6... up to 30 s apart (kombu's `ensure_connection` defaults), so a worker
came back ~2.5 s after a 3-second outage ended. `ensure_connection` calls that name no
intervals now retry after 0.5 s, then 1, 1.5, 2 s and every 2 s after that.
"""

from __future__ import annotations

import logging
import threading
from typing import Any

from kombu import Connection
from kombu.transport import redis as kombu_redis
from kombu.transport.virtual import QoS as VirtualQoS
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

log = logging.getLogger(__name__)

_PATCHED_FLAG = "_digitflow_reconnect_guard"
_LOST = (RedisConnectionError, RedisTimeoutError, OSError)
_orphans: set[str] = set()  # delivery tags a closing channel could not restore
_orphans_lock = threading.Lock()


def _guard_connparams(channel_cls: Any) -> None:
    """Part 1: a detached transport raises ConnectionError, not AttributeError."""
    original = channel_cls._connparams

    def _connparams(self: Any, asynchronous: bool = False) -> dict[str, Any]:
        """Refuse, as a lost connection, to build a pool for a detached transport."""
        if getattr(self.connection, "client", None) is None:
            raise RedisConnectionError("broker connection closed (kombu transport detached)")
        return original(self, asynchronous=asynchronous)

    channel_cls._connparams = _connparams


def _restore_orphans(qos: Any) -> None:
    """Put remembered orphans back on their queues; keep the rest if Redis fails again."""
    with _orphans_lock:
        tags = list(_orphans)
        _orphans.clear()
    for i, tag in enumerate(tags):
        try:
            qos.restore_by_tag(tag)
        except _LOST:
            with _orphans_lock:
                _orphans.update(tags[i:])
            return
    if tags:
        log.warning("restored %d unacked message(s) left behind by a broker outage", len(tags))


def _guard_restore(qos_cls: Any) -> None:
    """Part 2: remember what a failed close could not restore; restore it after reconnect."""
    restore_unacked = qos_cls.restore_unacked
    restore_visible = qos_cls.restore_visible

    def _restore_unacked(self: Any, client: Any = None) -> Any:
        tags = list(self._delivered)
        try:
            return restore_unacked(self, client)
        except _LOST:
            with _orphans_lock:
                _orphans.update(tags)
            raise

    def _restore_visible(self: Any, *args: Any, **kwargs: Any) -> Any:
        if _orphans:
            _restore_orphans(self)
        return restore_visible(self, *args, **kwargs)

    qos_cls.restore_unacked = _restore_unacked
    qos_cls.restore_visible = _restore_visible


def _guard_ack(qos_cls: Any) -> None:
    """Part 3: a failed ack frees its prefetch credit and leaves the message to be restored."""
    ack = qos_cls.ack

    def _ack(self: Any, delivery_tag: str) -> None:
        try:
            ack(self, delivery_tag)
        except _LOST:
            if not self.channel.closed:  # a closed channel's tags were handled by its close
                with _orphans_lock:
                    _orphans.add(delivery_tag)
            VirtualQoS.ack(self, delivery_tag)  # drop it from the prefetch window
            log.warning("could not ack %s (broker connection lost); it will be restored and "
                        "may run again", delivery_tag)

    qos_cls.ack = _ack


def _guard_receive(channel_cls: Any) -> None:
    """Part 4: read the broadcast PubSub only when it has something, and never reconnect it."""
    receive_one = channel_cls._receive_one

    def _receive_one(self: Any, c: Any) -> Any:
        conn = c.connection
        if conn is None or getattr(conn, "_sock", None) is None:
            self._in_listen = None
            raise RedisConnectionError("broker broadcast connection lost")
        if not conn.can_read(timeout=0):
            raise kombu_redis.Empty()
        return receive_one(self, c)

    channel_cls._receive_one = _receive_one


def _skip_no_ack_acks(channel_cls: Any) -> None:
    """Make `Message.ack` a no-op for messages of `no_ack` consumers, as on AMQP."""
    basic_consume, basic_cancel = channel_cls.basic_consume, channel_cls.basic_cancel

    def _basic_consume(self: Any, queue: str, *args: Any, **kwargs: Any) -> Any:
        tag, callback = kwargs.get("consumer_tag"), kwargs.get("callback")
        if kwargs.get("no_ack") and tag is not None and callback is not None:
            if self.no_ack_consumers is None:
                self.no_ack_consumers = set()
            self.no_ack_consumers.add(tag)

            def tagged(message: Any) -> Any:
                message.delivery_info.setdefault("consumer_tag", tag)
                return callback(message)

            kwargs["callback"] = tagged
        return basic_consume(self, queue, *args, **kwargs)

    def _basic_cancel(self: Any, consumer_tag: str) -> Any:
        if self.no_ack_consumers is not None:
            self.no_ack_consumers.discard(consumer_tag)
        return basic_cancel(self, consumer_tag)

    channel_cls.basic_consume = _basic_consume
    channel_cls.basic_cancel = _basic_cancel


RECONNECT_INTERVALS = {"interval_start": 0.5, "interval_step": 0.5, "interval_max": 2.0}


def _quicker_reconnect() -> None:
    """Retry a lost broker connection every <= 2 s instead of up to 30 s apart."""
    ensure_connection = Connection.ensure_connection

    def _ensure_connection(self: Any, *args: Any, **kwargs: Any) -> Any:
        if len(args) <= 2:  # (errback, max_retries) positionally; intervals not given
            for name, value in RECONNECT_INTERVALS.items():
                kwargs.setdefault(name, value)
        return ensure_connection(self, *args, **kwargs)

    Connection.ensure_connection = _ensure_connection


def install() -> None:
    """Patch kombu's Redis Channel and QoS once per process (idempotent)."""
    if getattr(kombu_redis.Channel, _PATCHED_FLAG, False):
        return
    _guard_connparams(kombu_redis.Channel)
    _guard_receive(kombu_redis.Channel)
    _quicker_reconnect()
    _guard_restore(kombu_redis.QoS)
    _guard_ack(kombu_redis.QoS)
    _skip_no_ack_acks(kombu_redis.Channel)
    setattr(kombu_redis.Channel, _PATCHED_FLAG, True)
