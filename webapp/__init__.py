"""The web process: drawing page, REST API and Socket.IO, light enough to never load TensorFlow."""

from __future__ import annotations

from typing import Any

from flask import Flask

from shared.settings import Settings, get_settings
from webapp.extensions import init_extensions
from webapp.limits import init_limits
from webapp.security import init_security


def create_app(config: dict[str, Any] | None = None) -> Flask:
    """Application factory; `config` overrides settings fields (tests use it)."""
    settings = Settings(**config) if config else get_settings()
    app = Flask(__name__)
    app.config["MAX_CONTENT_LENGTH"] = settings.max_request_bytes
    app.config["SETTINGS"] = settings
    init_extensions(app, settings)

    from webapp import api, batches, errors, live, pages, training

    errors.register(app)
    app.register_blueprint(pages.bp)
    app.register_blueprint(api.bp)
    app.register_blueprint(batches.bp)
    app.register_blueprint(training.bp)
    live.register_handlers()
    init_security(app)
    init_limits(app, settings)  # after the blueprints: it wraps their endpoints
    return app
