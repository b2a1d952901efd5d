"""How many messages wait in each Celery queue, read straight from the Redis lists.

kombu's Redis transport keeps one list per queue *and priority step*: `live` holds priority 0
and `live\\x06\\x163`, `...6`, `...9` hold the others (`Channel.priority_steps`, `sep`). A
queue's depth is the sum of its lists, all read in one pipeline (one round trip). Messages a
worker has taken but not yet acknowledged sit in kombu's `unacked` hash instead; they are
reported apart, since they are being worked on, not waiting.
"""

from __future__ import annotations

import redis
from kombu.transport.redis import Channel

from shared.celery_app import FRAMES_QUEUE, INFERENCE_QUEUES, LIVE_QUEUE, TRAINING_QUEUE

QUEUES = (*INFERENCE_QUEUES, TRAINING_QUEUE)
# Lists a queue's depth adds up: a worker serving `live` serves the `frames` list too
# (worker/frames.py), so a waiting live frame counts as live work.
SERVED_WITH = {LIVE_QUEUE: (LIVE_QUEUE, FRAMES_QUEUE)}


def priority_keys(queue: str) -> list[str]:
    """Every Redis list kombu uses for `queue`, one per priority step (step 0 is the name)."""
    return [f"{queue}{Channel.sep}{step}" if step else queue for step in Channel.priority_steps]


def depth_keys(queue: str) -> list[str]:
    """Every Redis list whose messages count towards `queue`'s depth."""
    return [key for served in SERVED_WITH.get(queue, (queue,)) for key in priority_keys(served)]


def queue_state(r: redis.Redis, queues: tuple[str, ...] = QUEUES) -> tuple[dict[str, int], int]:
    """Waiting messages per queue (all priority steps summed) and the messages taken but not
    yet acknowledged (all queues together), in one round trip."""
    pipe = r.pipeline(transaction=False)
    keys = {queue: depth_keys(queue) for queue in queues}
    for queue in queues:
        for key in keys[queue]:
            pipe.llen(key)
    pipe.hlen(Channel.unacked_key)
    *lengths, taken = pipe.execute()
    depths, start = {}, 0
    for queue in queues:
        depths[queue] = sum(lengths[start:start + len(keys[queue])])
        start += len(keys[queue])
    return depths, int(taken)
