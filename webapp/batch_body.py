"""Reading a large JSON batch without stalling everyone else served by this process.

A 20,000-image JSON batch is ~30 MB of numbers, and parsing and checking it is seconds of
CPU; in the gevent web process that would stop every connection (live drawers, /healthz)
meanwhile. So it runs on a native thread: the strict parser (webapp/requests_json.py) calls
back into Python for every JSON object, so the GIL changes hands often and the gevent hub
keeps serving.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

T = TypeVar("T")


def off_loop(fn: Callable[..., T], *args: Any) -> T:
    """Run CPU-heavy `fn` on a native thread under gevent (the hub keeps serving); else inline."""
    from webapp.socket_events import async_mode

    if async_mode() != "gevent":
        return fn(*args)
    import gevent

    return gevent.get_hub().threadpool.apply(fn, args)
