"""GET /api/admin/status: the operator's view of the whole system, from Redis alone.

Any web process answers for all of them: workers are read from their heartbeat records
(worker/heartbeat.py: version, items/s, when last checked), queue depths from kombu's lists,
live answer latency from the histograms every web process adds to (shared/latency_window.py),
and the newest batches and training jobs from their capped recent lists. Admin token only: it names
workers and batch ids. The page's admin panel polls it every few seconds (static/draw/ops.js).
"""

from __future__ import annotations

import json
import time
from typing import Any

import redis
from flask import Blueprint, jsonify

from shared.batches import recent_batches
from shared.latency_window import read_slots, summarize
from shared.queue_depth import queue_state
from shared.redis_keys import worker_heartbeat, worker_heartbeat_pattern
from shared.train_jobs import recent_jobs
from webapp.auth import require_admin
from webapp.services import redis_client

bp = Blueprint("ops", __name__)
LATENCY_WINDOW_S = 60.0


def workers(r: redis.Redis, now: float) -> list[dict[str, Any]]:
    """Every worker with a live heartbeat record, by name."""
    keys = sorted(r.scan_iter(worker_heartbeat_pattern(), count=100))
    prefix = worker_heartbeat("")
    found = []
    for key, raw in zip(keys, r.mget(keys) if keys else [], strict=True):
        if raw is None:  # expired between SCAN and MGET
            continue
        record = json.loads(raw)
        checked = record.get("checked")
        found.append({"name": key.decode().removeprefix(prefix),
                      "version": record.get("version"),
                      "items_per_s": record.get("items_per_s"),
                      "items": record.get("items"),
                      "heartbeat_age_s": round(now - checked, 2) if checked else None})
    return found


@bp.get("/api/admin/status")
def status():  # type: ignore[no-untyped-def]
    """Workers, queue depths, live latency over the last minute, recent batches and jobs."""
    require_admin()
    r = redis_client()
    now = time.time()
    latency = summarize(read_slots(r, now, LATENCY_WINDOW_S), LATENCY_WINDOW_S)
    depths, taken = queue_state(r)
    return jsonify(time=now, workers=workers(r, now), queues=depths, unacked=taken,
                   latency=latency, batches=recent_batches(r),
                   train_jobs=recent_jobs(r))
