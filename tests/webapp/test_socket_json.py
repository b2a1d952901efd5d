"""The Socket.IO JSON module: strict, and a packet it cannot read becomes an answerable event."""

from __future__ import annotations

import pytest

from webapp.socket_json import UNREADABLE_EVENT, dumps, loads


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
