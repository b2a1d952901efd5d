"""POST /api/predict: one drawing, classified by a worker through the queue."""

from __future__ import annotations

import time

from celery.exceptions import TimeoutError as CeleryTimeout
from flask import Blueprint, jsonify

from shared.celery_app import PREDICT_TASK
from shared.saliency import EXPLAIN_FIELD, explain_flag
from shared.wire import checked
from webapp.requests_json import item_from_request
from webapp.services import send, settings

bp = Blueprint("predict", __name__)


def with_explain(wire: dict, extra: dict) -> dict:
    """The wire item, marked for saliency when the body asked `"explain": true`."""
    if explain_flag(extra.get(EXPLAIN_FIELD, False)):
        return {**wire, EXPLAIN_FIELD: True}
    return wire


@bp.post("/api/predict")
def predict():  # type: ignore[no-untyped-def]
    """Classify one drawing on a worker; 504 if no worker answers in time."""
    item, extra = item_from_request(frozenset({EXPLAIN_FIELD}))
    wire = checked(item)  # cheap checks here; an image is decoded once, by the worker
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
