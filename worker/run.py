"""`digitflow worker`: a Celery worker on the `live` and `batch` queues with a threads pool;
serving `live` also means popping the `frames` queue (live frames, worker/frames.py).

Threads, not prefork: every task thread hands its digits to one in-process micro-batcher, so
frames waiting at the same time share a forward pass, and TensorFlow is never forked.
"""

from __future__ import annotations

import contextlib
import logging
import os
import socket
import threading

from celery import Celery
from celery.signals import worker_shutting_down

from shared.celery_app import INFERENCE_QUEUES, LIVE_QUEUE, make_celery
from shared.settings import check_bind, get_settings
from worker.frames import start_frame_consumer
from worker.heartbeat import start_heartbeat
from worker.metrics import start_metrics
from worker.runtime import Runtime, start_runtime
from worker.sweeper import start_sweeper

log = logging.getLogger(__name__)


def _load_model(runtime: Runtime, celery: Celery, frames: bool) -> None:
    """Import TensorFlow and load the model while Celery boots, in this very process; then
    (`frames`) start popping live frames, so none waits here for the model."""
    runtime.holder.refresh()
    if frames:
        consumer = start_frame_consumer(runtime.settings.redis_url)
        # a warm shutdown finishes the frames taken, as Celery finishes its running tasks
        worker_shutting_down.connect(lambda **_: consumer.stop(), weak=False)
    runtime.holder.start_background()
    start_heartbeat(celery, runtime.redis, runtime.holder.hostname, lambda: runtime.holder.version,
                    items=lambda: runtime.batcher.items)
    start_sweeper(runtime.redis, celery, float(runtime.settings.visibility_timeout_s))


def parse_queues(spec: str) -> list[str]:
    """`live`, `batch` or `live,batch` (the order is the order they are served in)."""
    queues = [q.strip() for q in spec.split(",") if q.strip()]
    unknown = [q for q in queues if q not in INFERENCE_QUEUES]
    if not queues or unknown or len(set(queues)) != len(queues):
        raise ValueError(f"--queues must list {' and/or '.join(INFERENCE_QUEUES)}, got {spec!r}")
    return queues


def run_in_background(nice: int) -> str:
    """Lower this process below live work: `nice`, and on Linux the SCHED_IDLE class too.

    Nobody watches a batch live: on a machine it shares with live workers (what `digitflow
    up` starts), the scheduler should give them the CPU first. Nice 10 alone left a live
    frame waiting behind the batch worker's two busy lanes now and then (1 drawer's p99
    during a 20,000-image batch 1.44-2.36x its p99 alone); SCHED_IDLE gives way at once
    (1.00-1.17x) at the same batch throughput (`python bench/live.py --clients 1 --batch
    20000`, README "Benchmarks"). Linux sets a thread's class per thread: every thread
    running now (imports start a few) moves, and the ones started later inherit it.
    """
    os.nice(nice)
    if not hasattr(os, "SCHED_IDLE"):
        return f"nice {nice}"
    for tid in os.listdir("/proc/self/task"):
        with contextlib.suppress(ProcessLookupError):  # a thread that just ended
            os.sched_setscheduler(int(tid), os.SCHED_IDLE, os.sched_param(0))
    return f"nice {nice} in the SCHED_IDLE class"


def run_worker(concurrency: int = 8, name: str | None = None,
               queues: str = ",".join(INFERENCE_QUEUES)) -> int:
    """Run until stopped; returns the exit code.

    The model loads in a thread started before Celery's own start-up, so the two overlap:
    that is most of a cold start (TensorFlow's import alone is ~3 s here).
    """
    try:
        served = parse_queues(queues)
    except ValueError as exc:
        log.error("%s", exc)
        return 2
    settings = get_settings()
    if served == ["batch"] and settings.background_nice > 0:
        log.info("batch-only worker: running at %s", run_in_background(settings.background_nice))
    celery = make_celery(settings)
    hostname = (name or "worker@%h").replace("%h", socket.gethostname())
    try:
        check_bind(settings.metrics_host, settings)
    except ValueError as exc:
        log.error("METRICS_HOST: %s", exc)
        return 2
    runtime = start_runtime(settings, hostname)
    start_metrics(settings.metrics_host, settings.worker_metrics_port,
                  lambda: runtime.holder.version)
    threading.Thread(target=_load_model, args=(runtime, celery, LIVE_QUEUE in served),
                     name="model-load",
                     daemon=True).start()
    argv = ["worker", "-Q", ",".join(served), "-P", "threads",
            "-c", str(concurrency), "--loglevel", "INFO", "--without-gossip", "--without-mingle"]
    # Celery logs "received" and "succeeded" at INFO for every task: two log lines per live
    # frame costs real CPU at 100s of frames/s. Failures and our own INFO lines still log.
    for noisy in ("celery.worker.strategy", "celery.app.trace"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    if name:
        argv += ["-n", name]
    # `Celery.start`, not `worker_main`, which drops the exit code: a worker that stops on an
    # unrecoverable error must exit non-zero, so `digitflow up` (or systemd) sees a crash.
    return celery.start(argv) or 0
