"""Prometheus series of an inference worker, served on its own port (WORKER_METRICS_PORT).

A worker is one process whose Celery pool is threads (worker/run.py), so its series live in
prometheus_client's default registry and `start_http_server` serves them from a daemon
thread: no multiprocess mode. Each worker on a machine gets its own port (`digitflow up`
gives worker i base + i - 1). Items per second is a counter: Prometheus computes `rate()`.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from celery.signals import task_failure
from prometheus_client import (
    Counter,
    Gauge,
    Histogram,
    disable_created_metrics,
    start_http_server,
)

log = logging.getLogger(__name__)
disable_created_metrics()  # no `_created` sample beside each counter and histogram

# Seconds: one digit's preprocessing takes ~20-100 us, a forward pass ~1-50 ms.
PREPROCESS_BUCKETS = (0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.1)
MODEL_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0)
BATCH_SIZE_BUCKETS = (1, 2, 4, 8, 16, 32, 64, 128, 256)

FORWARD_PASSES = Counter("digitflow_worker_forward_passes", "Forward passes of the model")
ITEMS = Counter("digitflow_worker_items", "Digits classified (rate() gives items per second)")
BATCH_SIZE = Histogram("digitflow_worker_batch_size", "Digits per forward pass (micro-batch)",
                       buckets=BATCH_SIZE_BUCKETS)
MODEL_SECONDS = Histogram("digitflow_worker_model_seconds", "Time of one forward pass",
                          buckets=MODEL_BUCKETS)
PREPROCESS_SECONDS = Histogram("digitflow_worker_preprocess_seconds",
                               "Decode and MNIST-style preprocessing of one item",
                               buckets=PREPROCESS_BUCKETS)
ERRORS = Counter("digitflow_worker_errors", "Failures by kind: invalid_input (an item refused), "
                 "forward_pass (a pass failed), task (a task raised)", ["kind"])
MODEL_VERSION = Gauge("digitflow_worker_model_version", "Model version served (-1: none yet)")
ERROR_KINDS = ("invalid_input", "forward_pass", "task")

# What a scrape of a worker must show (bench/metrics_scrape.py, tests/worker/test_metrics.py)
SERIES = (
    "digitflow_worker_forward_passes_total", "digitflow_worker_items_total",
    "digitflow_worker_batch_size_bucket", "digitflow_worker_model_seconds_bucket",
    "digitflow_worker_preprocess_seconds_bucket", "digitflow_worker_model_version",
    *(f'digitflow_worker_errors_total{{kind="{k}"}}' for k in ERROR_KINDS),
)


def record_pass(rows: int) -> None:
    """One forward pass of `rows` digits went through."""
    FORWARD_PASSES.inc()
    ITEMS.inc(rows)
    BATCH_SIZE.observe(rows)


def _count_task_failure(**_: object) -> None:
    ERRORS.labels("task").inc()


def start_metrics(host: str, port: int, version: Callable[[], int | None]) -> bool:
    """Serve /metrics on host:port (0 = off) and report the served version; True if serving."""
    for kind in ERROR_KINDS:
        ERRORS.labels(kind)  # present from the start at 0, so rate() and alerts see them
    MODEL_VERSION.set_function(lambda: -1 if (v := version()) is None else v)
    task_failure.connect(_count_task_failure, weak=False, dispatch_uid="digitflow-metrics")
    if not port:
        return False
    try:
        start_http_server(port, addr=host)
    except OSError as exc:  # a busy port costs the metrics, never the worker
        log.error("worker metrics not served on %s:%d: %s", host, port, exc)
        return False
    log.info("worker metrics on http://%s:%d/metrics", host, port)
    return True
