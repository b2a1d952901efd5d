"""Strict JSON for untrusted bodies: nesting depth, duplicate keys, bad text."""

from __future__ import annotations

import json

import pytest

from shared.preprocess import InvalidInput
from shared.strict_json import json_depth_exceeds, parse_object, strict_json_loads


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


def test_parse_object_refuses_unknown_fields_and_non_objects() -> None:
    assert parse_object(b'{"images": []}', {"images"}) == {"images": []}
    with pytest.raises(InvalidInput, match="unknown field"):
        parse_object(b'{"images": [], "extra": 1}', {"images"})
    with pytest.raises(InvalidInput, match="JSON object"):
        parse_object(b"[1, 2]", {"images"})
