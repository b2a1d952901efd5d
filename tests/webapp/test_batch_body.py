"""Large JSON batch bodies are read by a child process; the answer is the same as inline."""

from __future__ import annotations

import json
import time

import pytest
from werkzeug.exceptions import ServiceUnavailable

from shared.preprocess import InvalidInput
from webapp import batch_body
from webapp.batch_body import ingest_in_child, read_json_batch


def _body(n: int, bad: set[int]) -> bytes:
    items = [{"pixels": [[0.0] * 28] * 28} if i not in bad else {"pixels": [[1, 2], [3]]}
             for i in range(n)]
    return json.dumps({"images": items}).encode()


def test_child_reads_what_inline_reads() -> None:
    raw = _body(300, bad={4, 250})
    inline = read_json_batch(raw, 1000, 128, inline_max_bytes=len(raw), nice=0)
    child = ingest_in_child([raw], 1000, 128, nice=5)
    assert child == inline
    assert child.total == 300
    assert set(child.errors) == {4, 250}
    assert len(child.payloads) == 3  # 298 good items in chunks of 128
    assert json.loads(child.payloads[0])["indices"][:5] == [0, 1, 2, 3, 5]


def test_a_body_in_pieces_reads_as_the_whole_inline_and_in_the_child() -> None:
    raw = _body(300, bad={7})
    pieces = [raw[i:i + 1000] for i in range(0, len(raw), 1000)]
    whole = read_json_batch(raw, 1000, 128, inline_max_bytes=len(raw), nice=0)
    assert read_json_batch(pieces, 1000, 128, inline_max_bytes=len(raw), nice=0) == whole
    assert read_json_batch(pieces, 1000, 128, inline_max_bytes=0, nice=5) == whole


def test_child_refusal_is_the_same_400() -> None:
    raw = _body(30, bad=set())
    with pytest.raises(InvalidInput, match="too many items: at most 20"):
        read_json_batch(raw, 20, 128, inline_max_bytes=0, nice=0)
    with pytest.raises(InvalidInput, match="duplicate JSON key"):
        read_json_batch(b'{"images": [], "images": []}', 20, 128, inline_max_bytes=0, nice=0)


def test_a_failed_child_is_a_503_not_a_crash(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(batch_body.sys, "executable", "/bin/false")
    with pytest.raises(ServiceUnavailable, match="could not be read"):
        read_json_batch(_body(3, bad=set()), 20, 128, inline_max_bytes=0, nice=0)


def test_a_hung_child_is_killed_and_is_a_503(monkeypatch: pytest.MonkeyPatch, tmp_path) -> None:  # type: ignore[no-untyped-def]
    hang = tmp_path / "hang"
    hang.write_text("#!/bin/sh\nexec sleep 30\n")
    hang.chmod(0o755)
    monkeypatch.setattr(batch_body.sys, "executable", str(hang))
    monkeypatch.setattr(batch_body, "CHILD_TIMEOUT_S", 0.5)
    started = time.monotonic()
    with pytest.raises(ServiceUnavailable, match="could not be read"):
        read_json_batch(_body(3, bad=set()), 20, 128, inline_max_bytes=0, nice=0)
    assert time.monotonic() - started < 10  # killed at the timeout, not after its 30 s
