"""Shadow sessions: which admin connection asked for a second model on its frames (issue 12).

A connection becomes an admin's by its Socket.IO `auth` (`{"token": ADMIN_TOKEN}` at connect)
or by the token in its `shadow` event; the `shadow` event `{"version": N | null}` then sets or
clears the version that also answers that connection's frames. The state is this process's
own: a client's frames all reach the web process holding its connection (webapp/live.py), and
a reconnect starts a session afresh (the page sends its choice again).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from shared.fields import unknown_fields_error
from shared.preprocess import InvalidInput
from shared.shadow_wire import shadow_version
from webapp.auth import token_matches

SHADOW_EVENT_FIELDS = {"version", "token"}


class ShadowSessions:
    """Admin connections and the shadow version each one set."""

    def __init__(self) -> None:
        self._admins: set[str] = set()
        self._versions: dict[str, int] = {}
        self._lock = threading.Lock()

    def admit(self, sid: str) -> None:
        """This connection proved the admin token."""
        with self._lock:
            self._admins.add(sid)

    def is_admin(self, sid: str) -> bool:
        with self._lock:
            return sid in self._admins

    def set(self, sid: str, version: int | None) -> None:
        """Set (or, with None, clear) the shadow version of an admin connection."""
        with self._lock:
            if version is None:
                self._versions.pop(sid, None)
            else:
                self._versions[sid] = version

    def version(self, sid: str) -> int | None:
        """The shadow version this connection's frames carry (None: no shadow)."""
        with self._lock:
            return self._versions.get(sid)

    def forget(self, sid: str) -> None:
        """The connection left."""
        with self._lock:
            self._admins.discard(sid)
            self._versions.pop(sid, None)


def auth_token(auth: Any) -> str | None:
    """The token of a connect's `auth` object, if it carries a string one."""
    token = auth.get("token") if isinstance(auth, dict) else None
    return token if isinstance(token, str) else None


def shadow_request(sessions: ShadowSessions, sid: str, args: tuple[Any, ...],
                   admin_token: str, published: Callable[[], list[int]]) -> int | None:
    """Check a `shadow` event and apply it; returns the version now set (None: cleared).
    Raises InvalidInput (or PermissionError) saying what is wrong; nothing changes then."""
    data = args[0] if len(args) == 1 else None
    if not isinstance(data, dict) or "version" not in data:
        raise InvalidInput("shadow needs one JSON object {'version': <published version> "
                           "or null}")
    problem = unknown_fields_error(data, SHADOW_EVENT_FIELDS)
    if problem:
        raise InvalidInput(problem)
    token = data.get("token")
    if token is not None and not isinstance(token, str):
        raise InvalidInput("'token' must be a string")
    if token is not None and token_matches(token.strip(), admin_token):
        sessions.admit(sid)
    if not sessions.is_admin(sid):
        raise PermissionError("shadow mode is for the admin: send the admin token "
                              "(auth={'token': ...} at connect, or 'token' in this event)")
    version = shadow_version(data["version"])
    if version is not None and version not in published():
        raise InvalidInput(f"no published model version {version}")
    sessions.set(sid, version)
    return version
