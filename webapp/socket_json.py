"""How the web process reads Socket.IO packets: strictly, and never without an answer.

python-socketio decodes a packet before any handler runs. If that raises (JSON nested deeper
than the interpreter's recursion limit, an integer of over 4,300 digits, a malformed or
unknown packet type), the packet is dropped with a log line and the client hears nothing.
Here such a packet becomes the event `UNREADABLE_EVENT`, whose handler (`on_unreadable` in
webapp/socket_events.py) answers with an `error` event. `TolerantPacket` is given to
Socket.IO as its `serializer`.
"""

from __future__ import annotations

import json
from typing import Any

from socketio import packet

from shared.preprocess import InvalidInput
from shared.strict_json import strict_json_loads

UNREADABLE_EVENT = "digitflow-unreadable-packet"
CLIENT_PACKET_TYPES = (packet.CONNECT, packet.DISCONNECT, packet.EVENT, packet.ACK,
                       packet.BINARY_EVENT, packet.BINARY_ACK)


def dumps(obj: Any, **kwargs: Any) -> str:
    """Encode as python-socketio does by default."""
    return json.dumps(obj, **kwargs)


def loads(text: str | bytes, **_: Any) -> Any:
    """Decode strictly; a payload that cannot be read becomes `[UNREADABLE_EVENT, reason]`."""
    try:
        return strict_json_loads(text)
    except InvalidInput as exc:
        return [UNREADABLE_EVENT, str(exc)]


class _StrictJson:
    """The `json` module interface python-socketio expects, with the functions above."""

    dumps = staticmethod(dumps)
    loads = staticmethod(loads)


class TolerantPacket(packet.Packet):  # type: ignore[misc]
    """A packet that decodes anything: what cannot be a client packet becomes an event."""

    json = _StrictJson

    def decode(self, encoded_packet: Any) -> int:
        try:
            attachments = super().decode(encoded_packet)
        except Exception as exc:  # malformed framing: int('x'), a bad id, too many attachments
            return self._unreadable(f"not a Socket.IO packet ({exc})"[:200])
        if self.packet_type not in CLIENT_PACKET_TYPES:
            return self._unreadable(f"packet type {self.packet_type!r} is not one a client sends")
        if self.packet_type in (packet.EVENT, packet.BINARY_EVENT) and not (
                isinstance(self.data, list) and self.data and isinstance(self.data[0], str)):
            return self._unreadable("an event must be a list that starts with its name")
        return attachments or 0

    def _unreadable(self, reason: str) -> int:
        self.packet_type, self.namespace, self.id = packet.EVENT, None, None
        self.data = [UNREADABLE_EVENT, reason]
        return 0
