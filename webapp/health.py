"""GET /healthz: Redis reachable, live workers (by heartbeat) and the active model version."""

from __future__ import annotations

from flask import Blueprint, jsonify

from shared.redis_keys import worker_heartbeat_pattern
from webapp.services import redis_client, store

bp = Blueprint("health", __name__)


@bp.get("/healthz")
def healthz():  # type: ignore[no-untyped-def]
    """200 with the worker count and model version; 503 when Redis does not answer."""
    try:
        r = redis_client()
        r.ping()
        workers = sum(1 for _ in r.scan_iter(worker_heartbeat_pattern(), count=100))
    except Exception as exc:
        return jsonify(redis=f"down: {exc}", workers=0, model_version=None), 503
    return jsonify(redis="ok", workers=workers, model_version=store().active())
