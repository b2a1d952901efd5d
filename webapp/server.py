"""`digitflow web`: gunicorn with one process of threads, as Flask-SocketIO documents for
its threading mode with simple-websocket (one process, since Socket.IO sessions live in it;
scale out with more processes behind a sticky load balancer, all on one Redis)."""

from __future__ import annotations

import logging
from typing import Any

from gunicorn.app.base import BaseApplication

from shared.redis_conn import redacted
from shared.settings import get_settings

log = logging.getLogger(__name__)
THREADS = 200  # each websocket holds a thread for its lifetime


class _Gunicorn(BaseApplication):  # type: ignore[misc]
    """Run a WSGI app object with options given in code instead of a config file."""

    def __init__(self, app: Any, options: dict[str, Any]) -> None:
        self._app, self._options = app, options
        super().__init__()

    def load_config(self) -> None:
        for key, value in self._options.items():
            self.cfg.set(key, value)

    def load(self) -> Any:
        return self._app


def serve(port: int | None = None, host: str | None = None) -> int:
    """Run the web server until interrupted; returns the exit code."""
    from webapp import create_app

    s = get_settings()
    host, port = host or s.host, port or s.port
    log.info("web server on http://%s:%d (redis %s, model store %s)", host, port,
             redacted(s.redis_url), s.model_store)
    options = {"bind": f"{host}:{port}", "workers": 1, "worker_class": "gthread",
               "threads": THREADS, "timeout": 0, "graceful_timeout": 5, "accesslog": None,
               "errorlog": "-", "loglevel": "warning"}
    _Gunicorn(create_app(), options).run()
    return 0
