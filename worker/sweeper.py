"""Re-queues batch chunks whose task vanished, so a SIGKILLed worker never loses a batch.

Late acks and the broker's visibility timeout bring back tasks a dead worker had *recorded*
as delivered; this covers the one message it may have popped but not yet recorded. A chunk
with no results after the visibility timeout is sent again; result writes are idempotent, so
a chunk that was merely slow costs one duplicate forward pass and nothing else.
"""

from __future__ import annotations

import logging
import threading
import time

import redis
from celery import Celery

from shared.batches import overdue_chunks
from shared.celery_app import CLASSIFY_CHUNK_TASK

log = logging.getLogger(__name__)


def sweep_once(r: redis.Redis, celery: Celery, older_than_s: float) -> int:
    """Re-send every overdue chunk once; returns how many."""
    overdue = overdue_chunks(r, older_than_s)
    for batch_id, chunk in overdue:
        log.warning("re-queueing chunk %d of batch %s: no results after %.0fs", chunk, batch_id,
                    older_than_s)
        celery.send_task(CLASSIFY_CHUNK_TASK, args=[batch_id, chunk])
    return len(overdue)


def start_sweeper(r: redis.Redis, celery: Celery, older_than_s: float,
                  interval_s: float = 2.0) -> None:
    """Sweep in a daemon thread for the life of the worker."""

    def loop() -> None:
        while True:
            try:
                sweep_once(r, celery, older_than_s)
            except Exception:
                log.exception("batch sweep failed; retrying")
            time.sleep(interval_s)

    threading.Thread(target=loop, name="batch-sweeper", daemon=True).start()
