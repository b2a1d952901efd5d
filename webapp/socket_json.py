"""The JSON module Socket.IO decodes packets with: strict, and never raising.

python-socketio decodes a packet before any handler runs; if `json.loads` raises there
(nesting deeper than the interpreter's recursion limit, an integer of over 4,300 digits,
bad text), the packet is dropped with a log line and the client hears nothing. This module
turns such a packet into the event `UNREADABLE_EVENT`, whose handler answers with an
`error` event, so no input goes unanswered.
"""

from __future__ import annotations

import json
from typing import Any

from shared.preprocess import InvalidInput
from webapp.requests_json import strict_json_loads

UNREADABLE_EVENT = "digitflow-unreadable-packet"


def dumps(obj: Any, **kwargs: Any) -> str:
    """Encode as python-socketio does by default."""
    return json.dumps(obj, **kwargs)


def loads(text: str | bytes, **_: Any) -> Any:
    """Decode strictly; a packet that cannot be read becomes `[UNREADABLE_EVENT, reason]`."""
    try:
        return strict_json_loads(text)
    except InvalidInput as exc:
        return [UNREADABLE_EVENT, str(exc)]
