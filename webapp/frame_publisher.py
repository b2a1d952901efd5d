"""Live frames onto the `live` queue with one LPUSH: the message `Celery.send_task` sends, built
without kombu's per-publish machinery.

Why: a live frame is the web's hottest path, and `send_task` was half of the web's CPU per
frame (py-spy, `bench/live.py --clients 10`). kombu's Redis transport builds a new redis-py
client for every publish (~100 response callbacks copied each time), wraps it in a retry
context, checks the queue is declared and repr()s the arguments for the logs; the LPUSH itself
is a tenth of it. Here Celery's own `amqp.as_task_v2` builds the task message (protocol 2:
headers, properties, body), the envelope is kombu's virtual-transport layout (base64 body,
delivery info, a delivery tag), and one pooled client pushes it. A worker cannot tell the two
apart: tests/webapp/test_frame_publisher.py compares them field by field on a real Redis.

Only for tasks whose result is ignored and that have an expiry (live frames): anything else
goes through `send_task`.
"""

from __future__ import annotations

import base64
from typing import Any

import redis
from celery import Celery
from kombu.utils.json import dumps
from kombu.utils.uuid import uuid

PERSISTENT = 2  # AMQP delivery mode kombu's Producer sets by default
EMPTY_KWARGS_REPR = "{}"


class FramePublisher:
    """Publishes one task by name to the queue Celery routes it to; thread- and greenlet-safe
    (no state but the pooled client)."""

    def __init__(self, celery: Celery, client: redis.Redis, task_name: str) -> None:
        route = celery.amqp.router.route({}, task_name)
        queue = route["queue"]
        # Celery publishes to a direct exchange named like its queue and routing key through
        # the default exchange ("", routing key = queue): the only layout built here
        exchange = queue.exchange
        if (exchange.type != "direct" or exchange.name != queue.name
                or queue.routing_key != queue.name or route.get("priority")):
            raise ValueError(f"{task_name} is not routed straight to a queue: use send_task")
        self.task_name = task_name
        self.queue = queue.name
        self._amqp = celery.amqp
        self._redis = client

    def __call__(self, name: str, args: list[Any], *, expires: float,
                 ignore_result: bool = True) -> str:
        """Queue the task; returns its id. Same signature as the web's TaskSender for this
        one task (results ignored, an expiry in seconds)."""
        if name != self.task_name or not ignore_result:
            raise ValueError(f"this publisher sends {self.task_name} with ignore_result only")
        task_id = uuid()
        # argsrepr: what `celery events`/logs show for the task. Never the drawing itself.
        message = self._amqp.as_task_v2(
            task_id, name, args=args, kwargs={}, expires=expires, ignore_result=True,
            argsrepr=f"[{len(args)} args: a live frame]", kwargsrepr=EMPTY_KWARGS_REPR)
        body = dumps(message.body).encode("utf-8")
        envelope = {
            "body": base64.b64encode(body).decode("ascii"),
            "content-encoding": "utf-8",
            "content-type": "application/json",
            "headers": message.headers,
            "properties": {
                **message.properties,
                "delivery_mode": PERSISTENT,
                "expiration": str(int(expires * 1000)),
                "delivery_info": {"exchange": "", "routing_key": self.queue},
                "priority": 0,
                "body_encoding": "base64",
                "delivery_tag": uuid(),
            },
        }
        self._redis.lpush(self.queue, dumps(envelope))
        return task_id
