"""Every error leaves as JSON `{"error": ...}` with a 4xx/5xx status, never an HTML page."""

from __future__ import annotations

import logging

from flask import Flask, jsonify, request
from werkzeug.exceptions import HTTPException

from shared.preprocess import InvalidInput

log = logging.getLogger(__name__)


def register(app: Flask) -> None:
    """Install the JSON error handlers."""

    @app.errorhandler(InvalidInput)
    def invalid_input(exc: InvalidInput):  # type: ignore[no-untyped-def]
        log.info("rejected input on %s: %s", request.path, exc)
        return jsonify(error=str(exc)), 400

    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException):  # type: ignore[no-untyped-def]
        messages = {413: f"request too large: at most {app.config['MAX_CONTENT_LENGTH']} bytes"}
        return jsonify(error=messages.get(exc.code or 500, exc.description)), exc.code
