"""The web process: drawing page, REST API and Socket.IO, light enough to never load TensorFlow."""

from __future__ import annotations

from typing import Any

from flask import Flask
from flask_socketio import SocketIO
from werkzeug.middleware.proxy_fix import ProxyFix

from shared.settings import Settings, get_settings
from webapp import (
    batches,
    errors,
    feedback,
    health,
    models,
    ops,
    pages,
    predict,
    shadow_api,
    training,
)
from webapp.answer_clock import process_answer_clock
from webapp.connection_cap import ConnectionCap
from webapp.limits import init_limits
from webapp.live import LiveFrames
from webapp.metrics import init_metrics
from webapp.security import init_security
from webapp.services import Services, connect_services
from webapp.socket_events import bind_socketio, register_handlers


def create_app(config: dict[str, Any] | None = None, services: Services | None = None) -> Flask:
    """Application factory; `config` overrides settings fields, `services` the clients (tests)."""
    settings = Settings(**config) if config else get_settings()
    services = services or connect_services(settings)
    app = Flask(__name__)
    app.config["MAX_CONTENT_LENGTH"] = settings.max_request_bytes
    app.config["SETTINGS"] = settings
    app.extensions["digitflow"] = services

    socketio = SocketIO()
    live = LiveFrames(services.redis, services.send_frame or services.send_task, socketio.emit,
                      expires_s=settings.live_task_expires_s,
                      spawn=socketio.start_background_task,
                      clock=process_answer_clock(services.redis, socketio.start_background_task))
    app.extensions["digitflow_live"] = live
    bind_socketio(app, socketio, settings, live, services.message_queue)
    register_handlers(socketio, live, services.store, settings,
                      ConnectionCap(settings.max_connections_per_address))

    errors.register(app)
    init_metrics(app, services.redis)  # first: its request timer runs before any refusal
    for blueprint in (pages.bp, predict.bp, feedback.bp, health.bp, models.bp, batches.bp,
                      training.bp, ops.bp, shadow_api.bp):
        app.register_blueprint(blueprint)
    init_security(app)
    init_limits(app, settings, services.redis)  # after the blueprints: it wraps them
    if settings.trusted_proxies:
        # Outermost (around Socket.IO's middleware): quotas, the connection cap and the socket
        # handlers see the client's address behind nginx, not the proxy's.
        n = settings.trusted_proxies
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=n, x_proto=n)  # type: ignore[method-assign]
    return app
