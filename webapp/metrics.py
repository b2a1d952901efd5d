"""Prometheus series of the web process, and `GET /metrics` behind the admin token.

One web process is one gunicorn gevent worker (webapp/server.py), so a process's series live
in prometheus_client's default registry: no multiprocess mode, and every web process is a
scrape target of its own. `/metrics` needs `Authorization: Bearer <ADMIN_TOKEN>` (Prometheus:
`authorization: {credentials: ...}` in the scrape config), so it is never public. Hot paths
call one `.inc()` or `.observe()` on the objects below; queue depths are read from Redis at
scrape time only (`QueueDepthCollector`), so an idle system costs nothing.
"""

from __future__ import annotations

import time
from collections.abc import Iterator

import redis
from flask import Blueprint, Flask, Response, current_app, g, request
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    disable_created_metrics,
    generate_latest,
)
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

from shared.queue_depth import QUEUES, queue_state
from webapp.auth import require_admin

# No `_created` sample beside every counter and histogram: a third fewer lines to scrape.
disable_created_metrics()
# Latency buckets (s): live answers take a few ms alone and seconds under overload.
LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
# REST requests: fewer buckets, since every route x method x status repeats them all.
REST_BUCKETS = (0.005, 0.025, 0.1, 0.25, 1.0, 2.5, 10.0)

CONNECTIONS = Gauge("digitflow_web_connections", "Socket.IO connections held by this process")
FRAMES_RECEIVED = Counter("digitflow_web_frames_received", "Live draw frames offered to the gate")
FRAMES_COALESCED = Counter("digitflow_web_frames_coalesced",
                           "Live frames replaced by a newer one before they were sent")
FRAMES_ANSWERED = Counter("digitflow_web_frames_answered",
                          "Live frames whose answer was relayed to their client")
ANSWER_LATENCY = Histogram("digitflow_web_answer_latency_seconds",
                           "Live frame: arrival at this process to its answer being relayed",
                           buckets=LATENCY_BUCKETS)
REST_LATENCY = Histogram("digitflow_web_request_latency_seconds",
                         "HTTP requests by route (the URL rule, not the path) and status",
                         ["route", "method", "status"], buckets=REST_BUCKETS)
RATE_LIMITED = Counter("digitflow_web_rate_limited", "Requests and socket events refused by "
                       "a quota", ["kind"])

RATE_LIMIT_KINDS = ("http", "connect", "draw")
for _kind in RATE_LIMIT_KINDS:
    RATE_LIMITED.labels(_kind)  # at 0 from the start, so rate() and alerts see them

# What a scrape of a web process must show (bench/metrics_scrape.py, tests/webapp/test_metrics.py)
SERIES = (
    "digitflow_web_connections", "digitflow_web_frames_received_total",
    "digitflow_web_frames_coalesced_total", "digitflow_web_frames_answered_total",
    "digitflow_web_answer_latency_seconds_bucket", "digitflow_web_answer_latency_seconds_count",
    "digitflow_web_request_latency_seconds_bucket",
    *(f'digitflow_web_rate_limited_total{{kind="{k}"}}' for k in RATE_LIMIT_KINDS),
    *(f'digitflow_queue_depth{{queue="{q}"}}' for q in QUEUES), "digitflow_queue_unacked",
)

bp = Blueprint("metrics", __name__)
QUEUE_REGISTRY = "digitflow_queue_registry"


class QueueDepthCollector(Collector):
    """Reads the queue depths from Redis when Prometheus scrapes (one pipelined round trip)."""

    def __init__(self, r: redis.Redis) -> None:
        self.redis = r

    def collect(self) -> Iterator[GaugeMetricFamily]:
        depth = GaugeMetricFamily("digitflow_queue_depth", "Messages waiting in a Celery "
                                  "queue (all priority steps)", labels=["queue"])
        depths, taken = queue_state(self.redis)
        for queue, n in depths.items():
            depth.add_metric([queue], n)
        yield depth
        yield GaugeMetricFamily("digitflow_queue_unacked", "Messages taken by workers, not yet "
                                "acknowledged", value=taken)


@bp.get("/metrics")
def metrics() -> Response:
    """This process's series plus the queue depths, in the Prometheus text format."""
    require_admin()
    body = generate_latest(REGISTRY) + generate_latest(current_app.extensions[QUEUE_REGISTRY])
    return Response(body, content_type=CONTENT_TYPE_LATEST)


def _start_timer() -> None:
    g.metrics_started = time.perf_counter()


def _observe(response: Response) -> Response:
    started = g.pop("metrics_started", None)
    if started is not None:
        route = request.url_rule.rule if request.url_rule else "unmatched"
        REST_LATENCY.labels(route, request.method, str(response.status_code)).observe(
            time.perf_counter() - started)
    return response


def init_metrics(app: Flask, r: redis.Redis) -> None:
    """Time every request by route and status, and serve `/metrics` with the queue depths."""
    registry = CollectorRegistry(auto_describe=False)  # per app: tests build many apps
    registry.register(QueueDepthCollector(r))
    app.extensions[QUEUE_REGISTRY] = registry
    app.before_request(_start_timer)
    app.after_request(_observe)
    app.register_blueprint(bp)
