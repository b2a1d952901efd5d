"""`digitflow trainer`: the Celery worker of the `training` queue, one job at a time."""

from __future__ import annotations

import logging
import os

from shared.celery_app import TRAINING_QUEUE, make_celery
from shared.settings import get_settings

log = logging.getLogger(__name__)


def run_trainer(name: str | None = None) -> int:
    """Run until stopped. One job at a time, on a thread of this process (a threads pool of
    one: no fork after TensorFlow, and the consumer keeps running, so the job's early ack
    reaches Redis at once; the solo pool sent it only after the job).

    Training is background work: at `BACKGROUND_NICE` the scheduler serves live workers on the
    same machine first, and training takes what they leave.
    """
    settings = get_settings()
    if settings.background_nice > 0:
        os.nice(settings.background_nice)
        log.info("trainer: running at nice %d", settings.background_nice)
    argv = ["worker", "-Q", TRAINING_QUEUE, "-P", "threads", "-c", "1", "--loglevel", "INFO",
            "--without-gossip", "--without-mingle"]
    if name:
        argv += ["-n", name]
    return make_celery(settings).start(argv) or 0  # not worker_main: it drops the exit code
