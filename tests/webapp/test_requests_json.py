"""Pure request-reading rules: JSON depth, strict parsing, labels, token compare."""

from __future__ import annotations

import json

import pytest

from shared.preprocess import InvalidInput
from webapp.auth import token_matches
from webapp.requests_json import json_depth_exceeds, parse_label, strict_json_loads


@pytest.mark.parametrize(
    ("raw", "limit", "deep"),
    [
        (b"[]", 1, False),
        (b"[[]]", 1, True),
        (b'{"a": {"b": [1]}}', 3, False),
        (b'{"a": {"b": [1]}}', 2, True),
        (b'["[[[[[[", "]]]]"]', 1, False),  # brackets inside strings do not count
        (b'["\\"[[[["]', 1, False),  # nor after an escaped quote
        (b'["\\\\", [[]]]', 2, True),  # an escaped backslash does not escape the quote
        (b'["a\\nb[[", ["\\\\\\"[["]]', 2, False),
        (b"[" * 5000 + b"]" * 5000, 32, True),
        (b"", 1, False),
    ],
)
def test_json_depth_exceeds(raw: bytes, limit: int, deep: bool) -> None:
    assert json_depth_exceeds(raw, limit) is deep


def test_depth_check_is_fast_on_a_big_image_string() -> None:
    raw = json.dumps({"image": "data:image/png;base64," + "A" * 8_000_000}).encode()
    assert not json_depth_exceeds(raw)


def test_strict_loads_reads_nan_for_the_number_checks_to_refuse() -> None:
    assert strict_json_loads(b"[NaN, -Infinity]")[1] == float("-inf")


def test_strict_loads_accepts_plain_json() -> None:
    assert strict_json_loads(b'{"pixels": [[0, 1.5]], "label": "3"}') == {
        "pixels": [[0, 1.5]], "label": "3"}


@pytest.mark.parametrize(
    ("raw", "needle"),
    [
        (b"[" * 5000 + b"]" * 5000, "nested too deeply"),
        (b'{"a": 1, "a": 2}', "duplicate json key"),
        (b'{"a": {"b": 1, "b": 1}}', "duplicate json key"),
        (b"[" + b"9" * 5000 + b"]", "not valid json"),
        (b"\xff\xfe", "not valid json"),
        ('{"a": 1}'.encode("utf-16"), "not valid json"),
        (b'{"a": ', "not valid json"),
        (b"", "not valid json"),
    ],
)
def test_strict_loads_refuses(raw: bytes, needle: str) -> None:
    with pytest.raises(InvalidInput, match="(?i)" + needle):
        strict_json_loads(raw)


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
