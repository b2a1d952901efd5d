"""At most N Socket.IO connections per client address, so one address cannot hold them all.

Counted per web process (each process holds its own connections). Behind a reverse proxy,
run the app with werkzeug's ProxyFix so `remote_addr` is the client's, not the proxy's.
"""

from __future__ import annotations

import threading


class ConnectionCap:
    """Admits a connection if its address holds fewer than `limit`; forgets it on release."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self._lock = threading.Lock()
        self._by_addr: dict[str, int] = {}
        self._addr_of: dict[str, str] = {}  # sid -> address, for admitted connections only

    def admit(self, sid: str, addr: str) -> bool:
        """Count `sid` against `addr`; False (and nothing counted) when the address is full."""
        with self._lock:
            if sid in self._addr_of:
                return True
            if self._by_addr.get(addr, 0) >= self.limit:
                return False
            self._by_addr[addr] = self._by_addr.get(addr, 0) + 1
            self._addr_of[sid] = addr
            return True

    def release(self, sid: str) -> None:
        """The connection closed (a refused one was never counted)."""
        with self._lock:
            addr = self._addr_of.pop(sid, None)
            if addr is None:
                return
            left = self._by_addr[addr] - 1
            if left:
                self._by_addr[addr] = left
            else:
                del self._by_addr[addr]

    def held(self, addr: str) -> int:
        with self._lock:
            return self._by_addr.get(addr, 0)
