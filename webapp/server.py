"""`digitflow web`: serve the app with Flask-SocketIO in threading mode (simple-websocket)."""

from __future__ import annotations

import logging

from shared.settings import get_settings

log = logging.getLogger(__name__)


def serve(port: int | None = None, host: str | None = None) -> int:
    """Run the web server until interrupted; returns the exit code."""
    from webapp import create_app
    from webapp.extensions import socketio

    s = get_settings()
    app = create_app()
    host, port = host or s.host, port or s.port
    log.info("web server on http://%s:%d (redis %s, model store %s)", host, port,
             s.redis_url, s.model_store)
    socketio.run(app, host=host, port=port, allow_unsafe_werkzeug=True, log_output=False)
    return 0
