"""GET /healthz: ready only when Redis answers and a worker really consumes the queue."""

from __future__ import annotations

import logging

from flask import Blueprint, jsonify

from shared.redis_keys import worker_heartbeat_pattern
from webapp.services import redis_client, store

bp = Blueprint("health", __name__)
log = logging.getLogger(__name__)


@bp.get("/healthz")
def healthz():  # type: ignore[no-untyped-def]
    """200 only when Redis answers and a worker's consumer answered a ping through the queue
    in the last few seconds (worker/heartbeat.py); else 503, saying what is missing."""
    try:
        r = redis_client()
        r.ping()
        workers = sum(1 for _ in r.scan_iter(worker_heartbeat_pattern(), count=100))
    except Exception as exc:  # its text names the Redis host: keep that in the log
        log.warning("healthz: redis unreachable: %s", exc)
        return jsonify(redis="down", workers=0, model_version=None,
                       error="Redis does not answer"), 503
    try:
        version = store().active()
    except Exception:
        log.exception("healthz: the model store cannot be read")
        version = None
    if not workers:  # a worker records itself only once its model is loaded
        return jsonify(redis="ok", workers=0, model_version=version,
                       error="no worker is consuming the queue"), 503
    return jsonify(redis="ok", workers=workers, model_version=version)
