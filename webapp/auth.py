"""The admin bearer token that guards retraining and model activation."""

from __future__ import annotations

import hmac

from flask import request
from werkzeug.exceptions import Unauthorized

from webapp.services import settings


def require_admin() -> None:
    """Raise 401 unless the request carries `Authorization: Bearer <ADMIN_TOKEN>`."""
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    expected = settings().admin_token
    if scheme.lower() != "bearer" or not hmac.compare_digest(token.strip(), expected):
        raise Unauthorized("admin token required: Authorization: Bearer <ADMIN_TOKEN>")
