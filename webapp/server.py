"""`digitflow web`: gunicorn's gevent worker, one process, as Flask-SocketIO recommends for
many connections (`gunicorn -k gevent -w 1`, WebSocket via simple-websocket).

A connection costs a greenlet, not a thread, so one process holds thousands of idle sockets.
One process, since Socket.IO sessions live in it; scale out with more processes behind a
sticky load balancer, all on one Redis. cli/main.py monkey-patches the process for gevent
first thing for `web`, before the webapp package (redis, celery, socketio) is imported, so the
Redis clients, the Celery client, the message-queue listener and the frame gate's locks all
become cooperative. CPU-bound work stays out of this process: images are decoded by workers.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from gunicorn.app.base import BaseApplication

from shared.redis_conn import redacted

log = logging.getLogger(__name__)
WORKER_CONNECTIONS = 10_000  # gunicorn's default of 1,000 would cap the connections held


class _Gunicorn(BaseApplication):  # type: ignore[misc]
    """Run a WSGI app factory with options given in code instead of a config file."""

    def __init__(self, factory: Callable[[], Any], options: dict[str, Any]) -> None:
        self._factory, self._options = factory, options
        super().__init__()

    def load_config(self) -> None:
        for key, value in self._options.items():
            self.cfg.set(key, value)

    def load(self) -> Any:
        return self._factory()  # in the worker, after the fork


def serve(port: int | None = None, host: str | None = None) -> int:
    """Run the web server until interrupted; returns the exit code."""
    from shared.settings import get_settings
    from webapp import create_app

    s = get_settings()
    host, port = host or s.host, port or s.port
    log.info("web server on http://%s:%d (redis %s, model store %s)", host, port,
             redacted(s.redis_url), s.model_store)
    options = {"bind": f"{host}:{port}", "workers": 1, "worker_class": "gevent",
               "worker_connections": WORKER_CONNECTIONS, "backlog": 2048, "timeout": 0,
               "graceful_timeout": 5, "accesslog": None, "errorlog": "-", "loglevel": "warning"}
    _Gunicorn(create_app, options).run()
    return 0
