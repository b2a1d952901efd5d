"""Per-address quotas, with Flask-Limiter on the same Redis every web process shares.

The limits are data: endpoint -> a limit string from Settings (one env var each), applied
after the blueprints are registered, so routes stay free of quota code. The address is
`request.remote_addr`; behind a reverse proxy every client shares the proxy's address unless
the proxy's `X-Forwarded-For` is trusted (werkzeug's ProxyFix), which is a deployment choice.
Socket.IO connects use the same limiter and storage (`socket_allowed`). `draw` frames are
limited per connection, and a connection lives in one web process, so that count is kept in
this process's memory (`connection_allowed`): a Redis round trip per frame was ~30% of the
web's CPU per live frame.
"""

from __future__ import annotations

import functools
import logging
import math
from collections.abc import Callable

import redis
from flask import Flask, current_app, jsonify, request
from flask_limiter import Limiter
from flask_limiter.errors import RateLimitExceeded
from flask_limiter.util import get_remote_address
from limits import RateLimitItem, parse_many
from limits.storage import MemoryStorage
from limits.strategies import SlidingWindowCounterRateLimiter

from shared.redis_keys import RATE_LIMITS, SOCKET_RATE_LIMITS
from shared.settings import Settings
from webapp.metrics import RATE_LIMITED

log = logging.getLogger(__name__)
MIB = 1024 * 1024
EXTENSION = "digitflow_limiter"
LOCAL_EXTENSION = "digitflow_connection_limiter"

def batch_mib() -> int:
    """The cost of a batch request in the byte budget: its size in MiB, at least 1."""
    return max(1, math.ceil((request.content_length or 0) / MIB))


def endpoint_limits(s: Settings) -> dict[str, list[tuple[str, Callable[[], int] | int]]]:
    """Which endpoint gets which limits (and what one request costs)."""
    return {
        "predict.predict": [(s.rate_limit_predict, 1)],
        "feedback.feedback": [(s.rate_limit_feedback, 1)],
        "batches.submit": [(s.rate_limit_batches, 1), (s.rate_limit_batch_mib, batch_mib)],
        "training.start": [(s.rate_limit_admin, 1)],
        "models.activate": [(s.rate_limit_admin, 1)],
        "metrics.metrics": [(s.rate_limit_admin_read, 1)],
        "ops.status": [(s.rate_limit_admin_read, 1)],
        "shadow.disagreements": [(s.rate_limit_admin, 1)],  # a worker pass per call
    }


def too_many(exc: RateLimitExceeded):  # type: ignore[no-untyped-def]
    """429 as JSON; Flask-Limiter adds `Retry-After` to it after the request."""
    log.info("rate limit hit on %s by %s: %s", request.path, get_remote_address(), exc.limit.limit)
    RATE_LIMITED.labels("http").inc()
    return jsonify(error=f"too many requests from your address: at most {exc.limit.limit}; "
                         "see Retry-After"), 429


def init_limits(app: Flask, s: Settings, redis_client: redis.Redis) -> Limiter:
    """Bind a limiter to the app's own Redis and wrap the limited endpoints (call after the
    blueprints). swallow_errors: if Redis is away, serve unlimited rather than answer 500."""
    limiter = Limiter(key_func=get_remote_address, key_prefix=RATE_LIMITS,
                      strategy="sliding-window-counter", headers_enabled=True,
                      swallow_errors=True, enabled=s.rate_limits_enabled,
                      storage_uri=s.redis_url,
                      storage_options={"connection_pool": redis_client.connection_pool})
    limiter.init_app(app)
    app.extensions[EXTENSION] = limiter
    for endpoint, rules in endpoint_limits(s).items():
        view = app.view_functions.get(endpoint)
        if view is None:
            raise RuntimeError(f"no endpoint {endpoint} to limit")
        for rule, cost in rules:
            view = limiter.limit(rule, cost=cost)(view)
        app.view_functions[endpoint] = view
    app.register_error_handler(RateLimitExceeded, too_many)
    app.extensions[LOCAL_EXTENSION] = SlidingWindowCounterRateLimiter(MemoryStorage())
    return limiter


def socket_allowed(kind: str, rule: str, who: str | None = None) -> bool:
    """Count one Socket.IO `kind` event for `who` (default: the address); False when over."""
    limiter: Limiter = current_app.extensions[EXTENSION]
    if not limiter.enabled:
        return True
    who = who or get_remote_address()
    try:
        allowed = all([limiter.limiter.hit(item, SOCKET_RATE_LIMITS, kind, who)
                       for item in parse_many(rule)])
    except Exception:  # the limiter's storage is down: serve rather than refuse everyone
        log.exception("socket rate limit check failed; allowing the event")
        return True
    if not allowed:
        RATE_LIMITED.labels(kind).inc()
    return allowed


def connection_allowed(kind: str, rule: str, sid: str) -> bool:
    """Count one `kind` event of the connection `sid`, in this process; False when over."""
    limiter: Limiter = current_app.extensions[EXTENSION]
    if not limiter.enabled:
        return True
    local: SlidingWindowCounterRateLimiter = current_app.extensions[LOCAL_EXTENSION]
    allowed = all([local.hit(item, kind, sid) for item in _parsed(rule)])
    if not allowed:
        RATE_LIMITED.labels(kind).inc()
    return allowed


@functools.lru_cache(maxsize=16)
def _parsed(rule: str) -> list[RateLimitItem]:
    return parse_many(rule)
