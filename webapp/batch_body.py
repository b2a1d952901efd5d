"""Reading a large JSON batch without stalling everyone else served by this process.

A 20,000-image JSON batch is ~30 MB of numbers. `json.loads` parses it in one C call that
holds the GIL for seconds, and checking each item is seconds more of Python; in the gevent
web process either would stop every connection (live drawers, /healthz) meanwhile. So the body
`{"images": [...]}` is parsed item by item (`raw_decode`) and checked on a native thread: the
GIL changes hands every few ms and the gevent hub keeps serving. Any other shape returns None,
and the caller reads the body the ordinary way (with its usual error messages).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any, TypeVar

T = TypeVar("T")
_OPEN = re.compile(r'\s*\{\s*"images"\s*:\s*\[\s*')
_SPACE = re.compile(r"\s*")
_CLOSE = re.compile(r"\s*\}\s*\Z")


def iter_images(raw: bytes) -> list[Any] | None:
    """The items of a body exactly `{"images": [...]}`, parsed one at a time; else None."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        return None
    opened = _OPEN.match(text)
    if opened is None:
        return None
    decoder, pos, items = json.JSONDecoder(), opened.end(), []
    if text.startswith("]", pos):
        pos += 1
    else:
        while True:
            try:
                item, pos = decoder.raw_decode(text, pos)
            except json.JSONDecodeError:
                return None
            items.append(item)
            pos = _SPACE.match(text, pos).end()  # type: ignore[union-attr]
            sep = text[pos : pos + 1]
            pos = _SPACE.match(text, pos + 1).end()  # type: ignore[union-attr]
            if sep == "]":
                break
            if sep != ",":
                return None
    return items if _CLOSE.match(text, pos) else None


def off_loop(fn: Callable[..., T], *args: Any) -> T:
    """Run CPU-heavy `fn` on a native thread under gevent (the hub keeps serving); else inline."""
    from webapp.socket_events import async_mode

    if async_mode() != "gevent":
        return fn(*args)
    import gevent

    return gevent.get_hub().threadpool.apply(fn, args)
