"""POST /api/predict: one drawing, classified by a worker through the queue."""

from __future__ import annotations

import time

from celery.exceptions import TimeoutError as CeleryTimeout
from flask import Blueprint, jsonify

from shared.celery_app import PREDICT_TASK
from shared.number_wire import MODE_FIELDS, checked_any
from shared.saliency import EXPLAIN_FIELD, with_explain
from webapp.requests_json import item_from_request
from webapp.services import send, settings

bp = Blueprint("predict", __name__)


@bp.post("/api/predict")
def predict():  # type: ignore[no-untyped-def]
    """Classify one drawing (or, with `"mode": "number"`, read a whole number) on a worker;
    504 if no worker answers in time."""
    item, extra = item_from_request(MODE_FIELDS | {EXPLAIN_FIELD})
    modes = {k: v for k, v in extra.items() if k in MODE_FIELDS}
    wire = checked_any({**item, **modes})  # cheap checks; an image is decoded by the worker
    wire = with_explain(wire, extra)
    started = time.perf_counter()
    pending = send(PREDICT_TASK, wire, expires=settings().live_task_expires_s)
    try:
        result = pending.get(timeout=settings().predict_timeout_s)
    except CeleryTimeout:
        pending.revoke()
        return jsonify(error="no worker answered in time; try again"), 504
    pending.forget()  # the result was read; do not keep it in Redis
    if "error" in result:
        return jsonify(result), 400
    result["latency_ms"] = round((time.perf_counter() - started) * 1000, 2)
    return jsonify(result)
