"""The admin bearer token that guards retraining and model activation."""

from __future__ import annotations

import hmac

from flask import request
from werkzeug.exceptions import Unauthorized

from webapp.services import settings


def token_matches(given: str, expected: str) -> bool:
    """Constant-time compare on UTF-8 bytes: `compare_digest` raises on non-ASCII `str`."""
    return hmac.compare_digest(given.encode("utf-8", "replace"),
                               expected.encode("utf-8", "replace"))


def require_admin() -> None:
    """Raise 401 unless the request carries `Authorization: Bearer <ADMIN_TOKEN>`."""
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token_matches(token.strip(), settings().admin_token):
        raise Unauthorized("admin token required: Authorization: Bearer <ADMIN_TOKEN>")
