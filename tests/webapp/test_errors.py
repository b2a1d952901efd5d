"""The 413 message names the limit really hit (Werkzeug raises one 413 for three limits)."""

from __future__ import annotations

from webapp.errors import too_large_message


def test_byte_limit_is_named_when_the_body_is_too_long() -> None:
    assert "at most 100 bytes" in too_large_message(101, 100, 1000, 500_000)


def test_unknown_length_is_blamed_on_bytes() -> None:
    assert "request too large" in too_large_message(None, 100, 1000, 500_000)


def test_part_count_is_named_when_the_body_fits() -> None:
    message = too_large_message(50, 100, 20_001, 500_000)
    assert "too many files or fields" in message and "20001" in message
