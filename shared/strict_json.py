"""Strict JSON for untrusted bodies: bounded nesting, no duplicate keys, UTF-8 only.

Python's `json` recurses once per nesting level (so deep nesting raises RecursionError, not
ValueError), keeps the last of duplicate keys silently, and raises ValueError on integers of
over 4,300 digits. Bodies are therefore parsed here, which turns each of those into
`InvalidInput` (a 400), never a 500. Flask-free, so the batch reader's child process
(shared/batch_body.py) starts fast.
"""

from __future__ import annotations

import json
import re
from typing import Any

from shared.fields import unknown_fields_error
from shared.preprocess import InvalidInput

MAX_JSON_DEPTH = 32  # the deepest valid body (a batch of pixel items) is 5 levels deep
_OPENERS = frozenset(b"[{")
# every byte but quotes and brackets: deleted in C before the (short) Python-level scan
_NOT_STRUCTURE = bytes(b for b in range(256) if b not in b'"[]{}')
_STRING = re.compile(rb'"[^"]*"')


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
