"""`digitflow worker`: a Celery worker on the `inference` queue with a threads pool.

Threads, not prefork: every task thread hands its digits to one in-process micro-batcher, so
frames waiting at the same time share a forward pass, and TensorFlow is never forked.
"""

from __future__ import annotations

import logging
import socket
import threading

from shared.celery_app import INFERENCE_QUEUE, celery_app
from worker.readiness import start_readiness_beat
from worker.sweeper import start_sweeper

log = logging.getLogger(__name__)


def _load_model(hostname: str) -> None:
    """Import TensorFlow and load the model while Celery boots, in this very process."""
    from worker.runtime import get_runtime

    runtime = get_runtime(hostname)
    runtime.holder.refresh()
    runtime.holder.start_background()
    start_sweeper()
    start_readiness_beat(celery_app, runtime.holder.settings.redis_url, hostname,
                         lambda: runtime.holder.version)


def run_worker(concurrency: int = 8, name: str | None = None) -> int:
    """Run until stopped; returns the exit code.

    The model loads in a thread started before Celery's own start-up, so the two overlap:
    that is most of a cold start (TensorFlow's import alone is ~3 s here).
    """
    hostname = (name or "worker@%h").replace("%h", socket.gethostname())
    threading.Thread(target=_load_model, args=(hostname,), name="model-load",
                     daemon=True).start()
    argv = ["worker", "-Q", INFERENCE_QUEUE, "-P", "threads", "-c", str(concurrency),
            "--loglevel", "INFO", "--without-gossip", "--without-mingle"]
    if name:
        argv += ["-n", name]
    celery_app.worker_main(argv)
    return 0
