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


# ------------------------------------------------------------- pure rules of limits and access
from webapp.capacity import memory_pressure  # noqa: E402
from webapp.security import is_cross_site  # noqa: E402


def test_memory_pressure() -> None:
    assert memory_pressure({"used_memory": 10, "maxmemory": 0}, 0.8) is None  # no limit set
    assert memory_pressure({"used_memory": 79, "maxmemory": 100}, 0.8) is None
    assert "80% full" in (memory_pressure({"used_memory": 80, "maxmemory": 100}, 0.8) or "")


def test_is_cross_site() -> None:
    host = "http://127.0.0.1:5000/"
    assert not is_cross_site("POST", None, None, host)  # curl, requests, the CLI
    assert not is_cross_site("POST", "same-origin", "http://127.0.0.1:5000", host)
    assert not is_cross_site("GET", "cross-site", "https://evil.example", host)
    assert is_cross_site("POST", "cross-site", None, host)
    assert is_cross_site("POST", None, "https://evil.example", host)
    assert is_cross_site("POST", None, "null", host)
    assert not is_cross_site("POST", None, "http://127.0.0.1:5000", host)
