"""The Socket.IO JSON module: strict, and a packet it cannot read becomes an answerable event."""

from __future__ import annotations

import pytest
from socketio import packet

from webapp.socket_json import UNREADABLE_EVENT, TolerantPacket, dumps, loads


def test_round_trip() -> None:
    data = ["draw", {"seq": 3, "pixels": [[0, 255]]}]
    assert loads(dumps(data)) == data


@pytest.mark.parametrize(
    ("text", "needle"),
    [
        ('["draw",' + "[" * 5000 + "]" * 5000 + "]", "nested"),
        ('["draw",{"seq":' + "9" * 4301 + "}]", "not valid json"),
        ('["draw",{"seq":1,"seq":2}]', "duplicate"),
        ('["draw",{', "not valid json"),
    ],
)
def test_unreadable_packets_become_an_event(text: str, needle: str) -> None:
    event, reason = loads(text)
    assert event == UNREADABLE_EVENT
    assert needle in reason.lower()


@pytest.mark.parametrize(
    "encoded",
    ["x", "9", "4", '2["draw",' + "[" * 5000 + "]" * 5000 + "]", "2" + "1" * 200 + '["draw"]',
     "2[", '2["draw",{"seq":' + "9" * 4301 + "}]", "2", "2{}", "2[]", "2[1]"],
)
def test_any_packet_decodes_to_something_answerable(encoded: str) -> None:
    pkt = TolerantPacket(encoded_packet=encoded)
    assert pkt.packet_type == packet.EVENT
    assert pkt.data[0] == UNREADABLE_EVENT and isinstance(pkt.data[1], str)


def test_good_packets_decode_as_usual() -> None:
    pkt = TolerantPacket(encoded_packet='2["draw",{"seq":1}]')
    assert pkt.packet_type == packet.EVENT and pkt.data == ["draw", {"seq": 1}]
    assert TolerantPacket(encoded_packet="0").packet_type == packet.CONNECT
