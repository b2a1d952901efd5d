"""POST /api/feedback: a user-labelled drawing, kept for the next retrain."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, jsonify, request

from shared.feedback import NOT_A_DIGIT_CLASS, NOT_A_DIGIT_LABEL, add_feedback, source_id
from shared.preprocess import InvalidInput, decode_payload, to_mnist
from webapp.requests_json import item_from_request, parse_label
from webapp.services import redis_client, settings

bp = Blueprint("feedback", __name__)


def feedback_label(value: Any) -> int:
    """A digit 0-9 (as `parse_label` reads it), or "not a digit" (stored as class 10)."""
    if value == NOT_A_DIGIT_LABEL:
        return NOT_A_DIGIT_CLASS
    try:
        return parse_label(value)
    except InvalidInput:
        raise InvalidInput(f"label must be an integer from 0 to 9, or {NOT_A_DIGIT_LABEL!r}"
                           ) from None


@bp.post("/api/feedback")
def feedback():  # type: ignore[no-untyped-def]
    """Keep a user-labelled drawing, preprocessed exactly as training will see it."""
    item, extra = item_from_request(frozenset({"label"}))
    label = feedback_label(extra.get("label"))
    digit = to_mnist(decode_payload(item))
    if digit is None:
        raise InvalidInput("the drawing is empty; nothing to learn from")
    # a keyed hash of the address, so a retrain can cap any one address's share
    # (shared/feedback.select_feedback); keyed by the admin token, so it is not reversible
    source = source_id(request.remote_addr or "", settings().admin_token)
    count = add_feedback(redis_client(), digit, label, settings().feedback_cap, source)
    return jsonify(ok=True, count=count), 201
