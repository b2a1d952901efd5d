"""`digitflow trainer`: the Celery worker of the `training` queue, one job at a time."""

from __future__ import annotations

from shared.celery_app import TRAINING_QUEUE, make_celery
from shared.settings import get_settings


def run_trainer(name: str | None = None) -> int:
    """Run until stopped. The solo pool runs jobs in this process: no fork after TensorFlow."""
    argv = ["worker", "-Q", TRAINING_QUEUE, "-P", "solo", "-c", "1", "--loglevel", "INFO",
            "--without-gossip", "--without-mingle"]
    if name:
        argv += ["-n", name]
    make_celery(get_settings()).worker_main(argv)
    return 0
