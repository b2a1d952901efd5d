"""Pure request-reading rules: labels, token compare."""

from __future__ import annotations

import pytest

from shared.preprocess import InvalidInput
from webapp.auth import token_matches
from webapp.requests_json import parse_label


@pytest.mark.parametrize(("value", "label"), [(0, 0), (9, 9), ("0", 0), ("7", 7)])
def test_parse_label_accepts_ascii_digits(value: object, label: int) -> None:
    assert parse_label(value) == label


@pytest.mark.parametrize(
    "value",
    ["\u00b2", "\u0663", "\uff15", "7" * 5000, "10", 10, -1, 3.0, True, False, None, "",
     " 3", "3\n", "0x3", [3], {"label": 3}, 10**100],
)
def test_parse_label_refuses(value: object) -> None:
    with pytest.raises(InvalidInput, match="label"):
        parse_label(value)


@pytest.mark.parametrize(
    ("given", "expected", "match"),
    [("secret", "secret", True), ("secret", "secreT", False), ("t\u00e9st", "test", False),
     ("\u00b2\U0001f600", "x", False), ("", "secret", False), ("s\udc80", "s", False),
     ("caf\u00e9", "caf\u00e9", True)],
)
def test_token_matches_never_raises(given: str, expected: str, match: bool) -> None:
    assert token_matches(given, expected) is match
