"""POST /api/feedback: a user-labelled drawing, kept for the next retrain."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, jsonify

from shared.feedback import add_feedback
from shared.preprocess import InvalidInput, decode_payload, to_mnist
from webapp.requests_json import item_from_request
from webapp.services import redis_client, settings

bp = Blueprint("feedback", __name__)


def _label(value: Any) -> int:
    """The label as an int from 0 to 9 (multipart sends it as a string)."""
    if isinstance(value, str) and value.isdigit():
        value = int(value)
    if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value <= 9:
        raise InvalidInput("label must be an integer from 0 to 9")
    return value


@bp.post("/api/feedback")
def feedback():  # type: ignore[no-untyped-def]
    """Keep a user-labelled drawing, preprocessed exactly as training will see it."""
    item, extra = item_from_request(frozenset({"label"}))
    label = _label(extra.get("label"))
    digit = to_mnist(decode_payload(item))
    if digit is None:
        raise InvalidInput("the drawing is empty; nothing to learn from")
    count = add_feedback(redis_client(), digit, label, settings().feedback_cap)
    return jsonify(ok=True, count=count), 201
