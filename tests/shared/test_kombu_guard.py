"""The kombu reconnect guard (shared/kombu_guard.py) against a real redis-server that is
SIGKILLed and restarted: each part of the workaround, one test each. The end-to-end proof is
tests/worker/test_redis_restart.py (a real worker survives; without the guard it dies)."""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

import pytest
import redis
from kombu import Connection

from cli.embedded_redis import RedisServer
from shared import kombu_guard

pytestmark = pytest.mark.integration


@pytest.fixture(autouse=True)
def guard() -> None:
    kombu_guard.install()
    kombu_guard._orphans.clear()


def test_a_detached_transport_is_a_lost_connection_not_an_attribute_error(
    tmp_path: Path,
) -> None:
    with RedisServer(data_dir=tmp_path) as server:
        conn = Connection(server.url)
        channel = conn.channel()
        channel._disconnect_pools()
        conn._do_close_transport()  # what Connection.collect() does on a connection loss
        with pytest.raises(redis.exceptions.ConnectionError, match="detached"):
            channel.qos.restore_unacked()


def test_a_failed_ack_frees_its_credit_and_the_message_comes_back_after_reconnect(
    tmp_path: Path,
) -> None:
    server = RedisServer(data_dir=tmp_path).start()
    try:
        conn = Connection(server.url)
        queue = conn.SimpleQueue("guard-test")
        queue.put({"n": 1})
        message = queue.get(timeout=5)  # delivered, not acked: in the unacked hash
        qos = message.channel.qos
        qos.prefetch_count = 1  # a full prefetch window, as in a busy worker
        assert message.delivery_tag in qos._delivered and not qos.can_consume()
        time.sleep(1.2)  # appendfsync everysec
        os.kill(server.pid or 0, signal.SIGKILL)
        server.wait_exit()

        message.ack()  # Redis is gone: kombu would raise and keep the prefetch credit
        assert qos.can_consume(), "the credit is freed, so the consumer polls and sees the loss"
        assert message.delivery_tag in kombu_guard._orphans

        server.start()
        conn2 = Connection(server.url)
        queue2 = conn2.SimpleQueue("guard-test")
        queue2.channel.qos.restore_visible()  # the periodic sweep after the reconnect
        assert not kombu_guard._orphans
        again = queue2.get(timeout=5)
        assert again.payload == {"n": 1}, "restored at once, not after visibility_timeout"
        again.ack()
        with pytest.raises(queue2.Empty):  # exactly one copy came back
            queue2.get(timeout=0.5)
        conn2.release()
    finally:
        server.stop()



def test_the_broadcast_read_never_blocks_nor_reconnects_behind_kombus_back(
    tmp_path: Path,
) -> None:
    with RedisServer(data_dir=tmp_path) as server:
        conn = Connection(server.url)
        channel = conn.channel()
        subscriber = channel.subclient  # the broadcast PubSub of the worker's event loop
        subscriber.subscribe("guard-test")
        assert subscriber.get_message(timeout=2)["type"] == "subscribe"
        started = time.monotonic()
        with pytest.raises(kombu_guard.kombu_redis.Empty):  # nothing there: no blocking read
            channel._receive_one(subscriber)
        assert time.monotonic() - started < 1
        subscriber.connection.disconnect()  # what redis-py does after a read error
        with pytest.raises(redis.exceptions.ConnectionError):
            channel._receive_one(subscriber)  # plain redis-py would reconnect, then block
        assert subscriber.connection._sock is None, "not silently reconnected"
        conn.release()


def test_a_lost_broker_is_retried_every_two_seconds_at_most() -> None:
    from cli.embedded_redis import free_port

    intervals: list[float] = []
    conn = Connection(f"redis://127.0.0.1:{free_port()}/0")
    with pytest.raises(Exception):  # noqa: B017 - nothing listens: it must give up
        conn.ensure_connection(lambda _exc, interval: intervals.append(interval), 5)
    assert intervals == [0.5, 1.0, 1.5, 2.0, 2.0]  # kombu alone: 2, 4, 6, 8, 10 s


def test_acks_of_no_ack_consumers_cost_no_redis_transaction(tmp_path: Path) -> None:
    """A no_ack queue's message is never in the unacked hash, so its ack sends nothing."""
    from kombu import Consumer, Exchange, Queue

    with RedisServer(data_dir=tmp_path) as server:
        r = redis.Redis.from_url(server.url)
        with Connection(server.url) as conn:
            got: list = []
            for no_ack in (True, False):
                name = f"q-{no_ack}"
                queue = Queue(name, Exchange(name), routing_key=name, no_ack=no_ack)
                conn.Producer().publish({"n": 1}, exchange=queue.exchange, routing_key=name,
                                        declare=[queue])
                with Consumer(conn, [queue], callbacks=[lambda body, m: got.append(m)]):
                    conn.drain_events(timeout=5)
                    message = got[-1]
                    assert message.payload == {"n": 1}
                    assert r.hlen("unacked") == (0 if no_ack else 1)
                    before = r.info("commandstats").get("cmdstat_exec", {}).get("calls", 0)
                    message.ack()
                    after = r.info("commandstats").get("cmdstat_exec", {}).get("calls", 0)
                assert after - before == (0 if no_ack else 1), (no_ack, after - before)
                assert r.hlen("unacked") == 0
