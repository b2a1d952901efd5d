"""Reading request bodies strictly: a JSON object with known fields, or a multipart upload."""

from __future__ import annotations

from typing import Any

from flask import request

from shared.fields import unknown_fields_error
from shared.preprocess import InvalidInput
from shared.wire import image_item


def json_object(allowed: set[str]) -> dict[str, Any]:
    """The request's JSON object, refusing other types and unknown fields."""
    body = request.get_json(silent=True)
    if body is None:
        raise InvalidInput("expected a JSON body (Content-Type: application/json)")
    if not isinstance(body, dict):
        raise InvalidInput("expected a JSON object")
    problem = unknown_fields_error(body, allowed)
    if problem:
        raise InvalidInput(problem)
    return body


def item_from_request(extra: frozenset[str] = frozenset()) -> tuple[dict, dict]:
    """The payload item `{"pixels"|"image": ...}` (JSON or multipart) and any extra fields."""
    if request.files:
        upload = request.files.get("image")
        if upload is None:
            raise InvalidInput("multipart upload must have a file field named 'image'")
        return image_item(upload.read()), {k: request.form[k] for k in request.form if k in extra}
    body = json_object({"pixels", "image", *extra})
    item = {k: body[k] for k in ("pixels", "image") if k in body}
    return item, {k: body[k] for k in extra if k in body}
