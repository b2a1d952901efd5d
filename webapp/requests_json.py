"""Reading request bodies strictly: a JSON object, known fields only."""

from __future__ import annotations

import base64
from typing import Any

from flask import request

from shared.preprocess import InvalidInput


def json_object(allowed: set[str]) -> dict[str, Any]:
    """The request's JSON object, refusing other types and unknown fields."""
    body = request.get_json(silent=True)
    if body is None:
        raise InvalidInput("expected a JSON body (Content-Type: application/json)")
    if not isinstance(body, dict):
        raise InvalidInput("expected a JSON object")
    unknown = set(body) - allowed
    if unknown:
        raise InvalidInput(f"unknown field(s): {', '.join(sorted(unknown))}")
    return body


def uploaded_image_item(field: str = "image") -> dict[str, Any] | None:
    """A multipart file upload as a payload item `{"image": data URL}`, or None."""
    upload = request.files.get(field)
    if upload is None:
        return None
    raw = upload.read()
    return {"image": "data:image/png;base64," + base64.b64encode(raw).decode()}
