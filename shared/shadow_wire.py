"""The shadow version on the wire: the web marks a live item, the worker reads the mark.

An admin's session may name a published version as its "shadow" (issue 12): each of its
frames is then answered by the active model *and* the shadow, in the same micro-batch loop
iteration of the worker. The web adds `"shadow": <version>` to the frame's wire item (as
`explain` rides along, `shared.saliency`); no client ever sends it in a `draw` frame (the
socket refuses the field), so only a session the admin token unlocked can cost a second pass.

TensorFlow-free: both the web and the worker import it.
"""

from __future__ import annotations

from typing import Any

from shared.number_wire import is_number_item
from shared.preprocess import InvalidInput

SHADOW_FIELD = "shadow"


def shadow_version(value: Any) -> int | None:
    """A `shadow` event's version: a positive integer, or null to clear (never a bool)."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise InvalidInput("'version' must be a published model version (an integer) or null")
    return value


def with_shadow(wire: dict[str, Any], version: int | None) -> dict[str, Any]:
    """The wire item, marked for the shadow `version` (None: unchanged). Number mode is
    refused: a number's places are cut by the worker (worker/numbers.py), and comparing two
    whole readings is not what the side-by-side view shows."""
    if version is None:
        return wire
    if is_number_item(wire):
        raise InvalidInput("shadow mode compares one digit; clear the shadow version to read "
                           "a whole number")
    return {**wire, SHADOW_FIELD: version}


def split_shadow(item: Any) -> tuple[Any, int | None]:
    """A queued item and the shadow version it asks for (None when it asks for none)."""
    if isinstance(item, dict) and SHADOW_FIELD in item:
        version = item[SHADOW_FIELD]
        rest = {k: v for k, v in item.items() if k != SHADOW_FIELD}
        if isinstance(version, int) and not isinstance(version, bool) and version >= 1:
            return rest, version
        return rest, None  # a malformed mark costs no second pass (the web never sends one)
    return item, None
