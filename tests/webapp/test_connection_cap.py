"""Unit tests for the per-address connection cap (pure logic)."""

from __future__ import annotations

from webapp.connection_cap import ConnectionCap


def test_an_address_gets_at_most_limit_connections() -> None:
    cap = ConnectionCap(limit=2)
    assert cap.admit("s1", "10.0.0.1") and cap.admit("s2", "10.0.0.1")
    assert not cap.admit("s3", "10.0.0.1")
    assert cap.admit("s4", "10.0.0.2")  # another address is not affected
    assert cap.held("10.0.0.1") == 2


def test_a_closed_connection_frees_its_place_and_a_refused_one_costs_nothing() -> None:
    cap = ConnectionCap(limit=1)
    assert cap.admit("s1", "a")
    assert not cap.admit("s2", "a")
    cap.release("s2")  # refused: never counted, so releasing it changes nothing
    assert cap.held("a") == 1
    cap.release("s1")
    assert cap.held("a") == 0
    assert cap.admit("s3", "a")


def test_admitting_the_same_connection_twice_counts_it_once() -> None:
    cap = ConnectionCap(limit=1)
    assert cap.admit("s1", "a") and cap.admit("s1", "a")
    assert cap.held("a") == 1
