"""Bad JSON bodies for /api/predict and the error each must get: one list, used by the
in-process tests (Flask's client) and the end-to-end tests (requests) alike."""

from __future__ import annotations

from typing import Any

JSON_HEADERS = {"Content-Type": "application/json"}

# (keyword arguments of a POST, expected status, a word the error must contain)
BAD_JSON_BODIES: list[tuple[dict[str, Any], int, str]] = [
    ({"json": {"pixels": [[1, 2], [3, 4]]}}, 400, "between 8x8"),
    ({"json": {"pixels": [[0] * 28] * 28, "extra": 1}}, 400, "unknown field"),
    ({"json": [1, 2, 3]}, 400, "json object"),
    ({"data": "not json", "headers": JSON_HEADERS}, 400, "json"),
    ({"json": {"image": "data:image/png;base64,AAAA"}}, 400, "corrupt"),
]
