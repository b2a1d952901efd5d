"""Every error leaves as JSON `{"error": ...}` with a 4xx/5xx status, never an HTML page.

Messages name what the client did wrong and never an internal path, URL or exception text.
"""

from __future__ import annotations

import logging

from flask import Flask, jsonify, request
from werkzeug.exceptions import HTTPException, RequestEntityTooLarge

from shared.preprocess import InvalidInput

log = logging.getLogger(__name__)


def too_large_message(length: int | None, max_bytes: int | None, max_parts: int | None,
                      max_field_bytes: int | None) -> str:
    """Name the limit really hit: Werkzeug raises the same 413 for bytes, parts and fields."""
    if max_bytes is None or length is None or length > max_bytes:
        return f"request too large: at most {max_bytes} bytes"
    return (f"too many files or fields in one request (at most {max_parts}), "
            f"or a non-file form field over {max_field_bytes} bytes")


def register(app: Flask) -> None:
    """Install the JSON error handlers."""

    @app.errorhandler(InvalidInput)
    def invalid_input(exc: InvalidInput):  # type: ignore[no-untyped-def]
        log.info("rejected input on %s: %s", request.path, exc)
        return jsonify(error=str(exc)), 400

    @app.errorhandler(RequestEntityTooLarge)
    def too_large(exc: RequestEntityTooLarge):  # type: ignore[no-untyped-def]
        message = too_large_message(request.content_length, request.max_content_length,
                                    request.max_form_parts, request.max_form_memory_size)
        log.info("rejected input on %s: %s", request.path, message)
        return jsonify(error=message), 413

    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException):  # type: ignore[no-untyped-def]
        return jsonify(error=exc.description), exc.code

    @app.errorhandler(Exception)
    def unexpected(exc: Exception):  # type: ignore[no-untyped-def]
        log.exception("unhandled error on %s %s", request.method, request.path)
        return jsonify(error="internal error; it has been logged"), 500
