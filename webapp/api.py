"""REST: predict through the queue, feedback, health and model versions."""

from __future__ import annotations

import json
import time

import numpy as np
from celery.exceptions import TimeoutError as CeleryTimeout
from flask import Blueprint, jsonify, request
from werkzeug.exceptions import NotFound

from shared.events import announce_activation
from shared.model_store import StoreError
from shared.preprocess import InvalidInput, decode_payload, to_mnist
from shared.redis_keys import FEEDBACK_LIST, PREFIX
from shared.wire import checked
from webapp.auth import require_admin
from webapp.extensions import redis_client, send, settings, store
from webapp.requests_json import json_object, uploaded_image_item

bp = Blueprint("api", __name__)


def item_from_request(extra: set[str] = frozenset()) -> tuple[dict, dict]:
    """The payload item `{"pixels"|"image": ...}` (JSON or multipart) and any extra fields."""
    if request.files:
        item = uploaded_image_item("image")
        if item is None:
            raise InvalidInput("multipart upload must have a file field named 'image'")
        return item, {k: request.form[k] for k in request.form if k in extra}
    body = json_object({"pixels", "image", *extra})
    item = {k: body[k] for k in ("pixels", "image") if k in body}
    return item, {k: body[k] for k in extra if k in body}


@bp.post("/api/predict")
def predict():  # type: ignore[no-untyped-def]
    """Classify one drawing on a worker; 504 if no worker answers in time."""
    item, _ = item_from_request()
    wire = checked(item)  # cheap checks here; an image is decoded once, by the worker
    started = time.perf_counter()
    pending = send("worker.tasks.predict", wire,
                   _options={"expires": settings().live_task_expires_s})
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


@bp.post("/api/feedback")
def feedback():  # type: ignore[no-untyped-def]
    """Keep a user-labelled drawing, preprocessed exactly as training will see it."""
    item, extra = item_from_request({"label"})
    label = extra.get("label")
    if isinstance(label, str) and label.isdigit():
        label = int(label)
    if not isinstance(label, int) or isinstance(label, bool) or not 0 <= label <= 9:
        raise InvalidInput("label must be an integer from 0 to 9")
    digit = to_mnist(decode_payload(item))
    if digit is None:
        raise InvalidInput("the drawing is empty; nothing to learn from")
    record = json.dumps({"label": label, "digit": digit.astype(np.uint8).tolist(),
                         "created": time.time()})
    r = redis_client()
    pipe = r.pipeline()
    pipe.lpush(FEEDBACK_LIST, record)
    pipe.ltrim(FEEDBACK_LIST, 0, settings().feedback_cap - 1)  # the newest N are kept
    pipe.llen(FEEDBACK_LIST)
    count = pipe.execute()[-1]
    return jsonify(ok=True, count=count), 201


@bp.get("/healthz")
def healthz():  # type: ignore[no-untyped-def]
    """Redis reachable, live workers (by heartbeat) and the active model version."""
    try:
        r = redis_client()
        r.ping()
        workers = sum(1 for _ in r.scan_iter(f"{PREFIX}:worker:*", count=100))
    except Exception as exc:
        return jsonify(redis=f"down: {exc}", workers=0, model_version=None), 503
    return jsonify(redis="ok", workers=workers, model_version=store().active())


@bp.get("/api/models")
def models():  # type: ignore[no-untyped-def]
    """Every version with its metrics; `active` names the serving one."""
    rows = store().list()
    for row in rows:
        row.pop("history", None)
        row["status"] = "active" if row["active"] else row.get("status", "ready")
    return jsonify(active=store().active(), versions=rows)


@bp.post("/api/models/<int:version>/activate")
def activate(version: int):  # type: ignore[no-untyped-def]
    """Promote or roll back: move ACTIVE, then tell every worker and page."""
    require_admin()
    try:
        store().activate(version)
    except StoreError as exc:
        raise NotFound(str(exc)) from None
    announce_activation(version, settings().redis_url)
    return jsonify(active=version)
