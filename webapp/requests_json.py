"""Reading request bodies strictly: a JSON object, known fields only.

Python's `json` recurses once per nesting level (so deep nesting raises RecursionError, not
ValueError), keeps the last of duplicate keys silently, and raises ValueError on integers of
over 4,300 digits. Bodies are therefore parsed here, by `strict_json_loads`, which turns each
of those into `InvalidInput` (a 400), never a 500. NaN and Infinity are still read (Python
clients send them) and refused where a number is checked, so one bad batch item fails alone.
"""

from __future__ import annotations

import json
import re
from typing import Any

from flask import request

from shared.fields import unknown_fields_error
from shared.preprocess import InvalidInput
from shared.wire import image_item

MAX_JSON_DEPTH = 32  # the deepest valid body (a batch of pixel items) is 5 levels deep
_OPENERS = frozenset(b"[{")
# every byte but quotes and brackets: deleted in C before the (short) Python-level scan
_NOT_STRUCTURE = bytes(b for b in range(256) if b not in b'"[]{}')
_STRING = re.compile(rb'"[^"]*"')
_DIGIT_LABEL = re.compile(r"[0-9]")


def json_depth_exceeds(raw: bytes, limit: int = MAX_JSON_DEPTH) -> bool:
    """True when brackets in `raw` nest deeper than `limit` (checked before any parsing).

    Escaped backslashes and quotes are dropped first, then everything but quotes and
    brackets, then whole strings (brackets inside them do not count): what is left is the
    nesting alone, a few hundred bytes for a drawing however large its numbers or image.
    """
    skeleton = raw.replace(b"\\\\", b"").replace(b'\\"', b"").translate(None, _NOT_STRUCTURE)
    depth = 0
    for byte in _STRING.sub(b"", skeleton).replace(b'"', b""):  # an unclosed quote: bad JSON
        depth += 1 if byte in _OPENERS else -1
        if depth > limit:
            return True
    return False


def _refuse_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    """Object hook: a key given twice is ambiguous, so the body is refused."""
    body: dict[str, Any] = {}
    for key, value in pairs:
        if key in body:
            raise InvalidInput(f"duplicate JSON key: {key[:40]!r}")
        body[key] = value
    return body


def strict_json_loads(raw: bytes | str, max_depth: int = MAX_JSON_DEPTH) -> Any:
    """Parse JSON, raising InvalidInput for deep nesting, duplicate keys and bad text."""
    data = raw.encode("utf-8", "surrogatepass") if isinstance(raw, str) else raw
    if json_depth_exceeds(data, max_depth):
        raise InvalidInput(f"JSON is nested too deeply: at most {max_depth} levels")
    try:  # UTF-8 only, as RFC 8259 asks (json.loads would guess UTF-16/32 from bytes)
        text = raw if isinstance(raw, str) else raw.decode("utf-8")
        return json.loads(text, object_pairs_hook=_refuse_duplicates)
    except InvalidInput:
        raise
    except (ValueError, RecursionError) as exc:  # includes UnicodeDecodeError, huge ints
        raise InvalidInput(f"the body is not valid JSON: {str(exc)[:120]}") from None


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


def json_object(allowed: set[str]) -> dict[str, Any]:
    """The request's JSON object, refusing other types and unknown fields."""
    return parse_object(request_json_bytes(), allowed)


def parse_object(raw: bytes, allowed: set[str]) -> dict[str, Any]:
    """`raw` read strictly as a JSON object with no fields beyond `allowed` (no request needed,
    so it also runs off the event loop)."""
    body = strict_json_loads(raw)
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
