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

from shared.celery_app import INFERENCE_QUEUES, TRAINING_QUEUE

QUEUES = (*INFERENCE_QUEUES, TRAINING_QUEUE)


def priority_keys(queue: str) -> list[str]:
    """Every Redis list kombu uses for `queue`, one per priority step (step 0 is the name)."""
    return [f"{queue}{Channel.sep}{step}" if step else queue for step in Channel.priority_steps]


def queue_state(r: redis.Redis, queues: tuple[str, ...] = QUEUES) -> tuple[dict[str, int], int]:
    """Waiting messages per queue (all priority steps summed) and the messages taken but not
    yet acknowledged (all queues together), in one round trip."""
    pipe = r.pipeline(transaction=False)
    for queue in queues:
        for key in priority_keys(queue):
            pipe.llen(key)
    pipe.hlen(Channel.unacked_key)
    *lengths, taken = pipe.execute()
    steps = len(Channel.priority_steps)
    depths = {q: sum(lengths[i * steps:(i + 1) * steps]) for i, q in enumerate(queues)}
    return depths, int(taken)
