"""`digitflow worker`: a Celery worker on the `inference` queue with a threads pool.

Threads, not prefork: every task thread hands its digits to one in-process micro-batcher, so
frames waiting at the same time share a forward pass, and TensorFlow is never forked.
"""

from __future__ import annotations

import logging

from celery.signals import worker_ready

from shared.celery_app import INFERENCE_QUEUE, celery_app

log = logging.getLogger(__name__)


@worker_ready.connect
def _load_model_when_ready(sender: object = None, **_: object) -> None:
    """Load the model in the worker process itself, then keep it current."""
    from worker.runtime import get_runtime

    hostname = getattr(sender, "hostname", None)
    runtime = get_runtime(hostname)
    runtime.holder.refresh()
    runtime.holder.start_background()


def run_worker(concurrency: int = 8, name: str | None = None) -> int:
    """Run until stopped; returns the exit code."""
    argv = ["worker", "-Q", INFERENCE_QUEUE, "-P", "threads", "-c", str(concurrency),
            "--loglevel", "INFO", "--without-gossip", "--without-mingle"]
    if name:
        argv += ["-n", name]
    celery_app.worker_main(argv)
    return 0
