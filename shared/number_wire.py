"""Number mode on the wire: the `mode` and `strokes` fields, checked in the web process.

A number item travels as `{"mode": "number", "item": <a digit's wire item>, "strokes": [...]}`
(strokes optional). Light on purpose (no scipy, no TensorFlow): the web only checks fields and
packs pixels; the worker cuts the number (`shared.number`).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from shared.fields import unknown_fields_error
from shared.preprocess import InvalidInput, payload_field
from shared.wire import checked, unpack

MODES = ("digit", "number")
MAX_STROKES = 64  # the page sends one [x0, x1] per stroke; a number needs far fewer
NUMBER_FIELDS = {"mode", "item", "strokes"}  # of a number's wire item
MODE_FIELDS = frozenset({"mode", "strokes"})  # what an API item may add to pixels or image


def parse_mode(value: Any) -> str:
    """A given `mode` field: "digit" or "number" (a missing one means "digit")."""
    if not isinstance(value, str) or value not in MODES:
        raise InvalidInput("mode must be 'digit' or 'number'")
    return str(value)


def number_wire(item: dict[str, Any], strokes: Any = None) -> dict[str, Any]:
    """Check an API item read in number mode and return its wire form."""
    wire: dict[str, Any] = {"mode": "number", "item": checked(item)}
    if strokes is not None:
        wire["strokes"] = [list(s) for s in check_stroke_spans(strokes)]
    return wire


def checked_any(payload: Any) -> dict[str, Any]:
    """`shared.wire.checked` for items that may say `"mode"` (and, in number mode, carry
    `"strokes"`): batch items, `draw` frames."""
    if not isinstance(payload, Mapping) or ("mode" not in payload and "strokes" not in payload):
        return checked(payload)
    mode = parse_mode(payload["mode"]) if "mode" in payload else "digit"
    if mode == "digit":
        if "strokes" in payload:
            raise InvalidInput("strokes are read only in number mode")
        return checked({k: v for k, v in payload.items() if k != "mode"})
    kind, value = payload_field(payload, {"mode", "strokes"})
    return number_wire({kind: value}, payload.get("strokes"))


def is_number_item(item: Any) -> bool:
    """A wire item in number mode?"""
    return isinstance(item, dict) and item.get("mode") == "number"


def unpack_number(item: Any) -> tuple[np.ndarray, list[tuple[float, float, float, float]] | None]:
    """(ink, stroke spans or None) of a number wire item; re-checks everything."""
    problem = unknown_fields_error(item, NUMBER_FIELDS) if isinstance(item, dict) else (
        "a number item must be an object")
    if problem:
        raise InvalidInput(problem)
    if not isinstance(item.get("item"), dict):
        raise InvalidInput("a number item needs its drawing in 'item'")
    spans = check_stroke_spans(item["strokes"]) if "strokes" in item else None
    return unpack(item["item"]), spans


def check_stroke_spans(spans: object) -> list[tuple[float, float, float, float]]:
    """Validate `strokes`: at most MAX_STROKES boxes [x0, x1] or [x0, x1, y0, y1], each stroke's
    extent (brush included) as fractions of the drawing's width and height, 0 <= x0 <= x1 <= 1
    (and the same for y). A missing y extent is the whole height."""
    if not isinstance(spans, list):
        raise InvalidInput("strokes must be a list of [x0, x1, y0, y1] boxes "
                           "(fractions of the width and height)")
    if len(spans) > MAX_STROKES:
        raise InvalidInput(f"too many strokes: at most {MAX_STROKES}")
    out = []
    for span in spans:
        if (not isinstance(span, list) or len(span) not in (2, 4)
                or not all(isinstance(v, (int, float)) and not isinstance(v, bool)
                           for v in span)):
            raise InvalidInput("each stroke must be [x0, x1] or [x0, x1, y0, y1] (numbers)")
        box = [float(v) for v in span] + ([0.0, 1.0] if len(span) == 2 else [])
        if not all(np.isfinite(box)) or not (0.0 <= box[0] <= box[1] <= 1.0
                                             and 0.0 <= box[2] <= box[3] <= 1.0):
            raise InvalidInput("each stroke must satisfy 0 <= x0 <= x1 <= 1 and "
                               "0 <= y0 <= y1 <= 1")
        out.append((box[0], box[1], box[2], box[3]))
    return out
