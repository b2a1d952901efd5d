"""Reading request bodies strictly: a JSON object, known fields only.

The parsing rules themselves (nesting, duplicate keys, UTF-8) are shared/strict_json.py. NaN
and Infinity are still read (Python clients send them) and refused where a number is checked,
so one bad batch item fails alone.
"""

from __future__ import annotations

import re
from typing import Any

from flask import request

from shared.preprocess import InvalidInput
from shared.strict_json import parse_object
from shared.wire import image_item
from webapp.cooperative import read_pieces

_DIGIT_LABEL = re.compile(r"[0-9]")


def parse_label(value: Any) -> int:
    """A digit label: an int 0-9 or a one-character ASCII string "0"-"9", nothing else."""
    if isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= 9:
        return value
    if isinstance(value, str) and _DIGIT_LABEL.fullmatch(value):
        return int(value)
    raise InvalidInput("label must be an integer from 0 to 9")


def request_json_bytes() -> bytes:
    """The raw JSON body of the current request; refuses other content types and no body."""
    raw = request.get_data(cache=True) if request.is_json else b""
    if not raw:
        raise InvalidInput("expected a JSON body (Content-Type: application/json)")
    return raw


def request_json_pieces() -> list[bytes]:
    """The same, for large bodies (batches): read a piece at a time, pausing for other
    greenlets, and left in pieces (webapp/cooperative.py)."""
    pieces = read_pieces(request.stream) if request.is_json else []
    if not pieces:
        raise InvalidInput("expected a JSON body (Content-Type: application/json)")
    return pieces


def json_object(allowed: set[str]) -> dict[str, Any]:
    """The request's JSON object, refusing other types and unknown fields."""
    return parse_object(request_json_bytes(), allowed)


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
