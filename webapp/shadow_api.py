"""GET /api/admin/shadow/disagreements: where a shadow version and the active one disagree.

The newest `last` feedback drawings (labelled by users, shared/feedback.py) go through both
versions on a worker (a task by name on the live queue, as /api/predict does; the worker runs
them as one bulk batcher request, so no live frame waits behind them). The answer lists each
drawing whose verdicts differ (shared/shadow_compare.py): both answers, the label, the image.
"""

from __future__ import annotations

import re

from celery.exceptions import TimeoutError as CeleryTimeout
from flask import Blueprint, jsonify, request

from shared.celery_app import SHADOW_REVIEW_TASK
from shared.preprocess import InvalidInput
from shared.shadow_compare import MAX_DRAWINGS
from webapp.auth import require_admin
from webapp.services import send, settings, store

bp = Blueprint("shadow", __name__)
DEFAULT_LAST = 200
DECIMAL = re.compile(r"[0-9]{1,10}")
REVIEW_TIMEOUT_S = 60.0  # a first use loads the shadow version on the worker (seconds)


def int_arg(name: str, default: int | None, low: int, high: int) -> int:
    """A query-string integer within [low, high]; InvalidInput (400) says what is wrong."""
    raw = request.args.get(name)
    if raw is None and default is not None:
        return default
    if raw is None or not DECIMAL.fullmatch(raw) or not low <= int(raw) <= high:
        raise InvalidInput(f"'{name}' must be an integer from {low} to {high}")
    return int(raw)


@bp.get("/api/admin/shadow/disagreements")
def disagreements():  # type: ignore[no-untyped-def]
    """Run the newest `last` feedback drawings through `version` and the active version."""
    require_admin()
    version = int_arg("version", None, 1, 2**31)
    last = int_arg("last", DEFAULT_LAST, 1, MAX_DRAWINGS)
    if version not in store().versions():
        raise InvalidInput(f"no published model version {version}")
    pending = send(SHADOW_REVIEW_TASK, version, last, expires=REVIEW_TIMEOUT_S)
    try:
        result = pending.get(timeout=max(REVIEW_TIMEOUT_S, settings().predict_timeout_s))
    except CeleryTimeout:
        pending.revoke()
        return jsonify(error="no worker answered in time; try again"), 504
    pending.forget()
    if "error" in result:
        return jsonify(result), 502  # the worker could not load or run that version
    return jsonify(result)
