"""Batch bodies are read off the event loop only under gevent; elsewhere inline."""

from __future__ import annotations

from webapp.batch_body import off_loop


def test_off_loop_runs_inline_without_gevent() -> None:
    assert off_loop(sum, [1, 2, 3]) == 6
