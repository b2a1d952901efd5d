"""The batch reader's output format: encoded by the child, read back payload by payload."""

from __future__ import annotations

import io
import json

import pytest

from shared.batch_body import Ingested, encode, ingest_json, read_output
from shared.preprocess import InvalidInput


def _ingested() -> Ingested:
    items = [{"pixels": [[0.0] * 28] * 28}] * 5 + [{"pixels": [[1, 2], [3]]}]
    return ingest_json(json.dumps({"images": items}).encode(), 100, 2)


def test_the_output_reads_back_payload_by_payload_with_a_call_between() -> None:
    batch = _ingested()
    assert len(batch.payloads) == 3 and list(batch.errors) == [5]
    calls: list[int] = []
    back = read_output(io.BytesIO(encode(batch)), lambda: calls.append(1))
    assert back == batch
    assert len(calls) == 3  # one pause per payload, none for the whole


def test_a_refused_body_is_the_same_refusal() -> None:
    out = json.dumps({"error": "too many items: at most 3"}).encode() + b"\n"
    with pytest.raises(InvalidInput, match="too many items"):
        read_output(io.BytesIO(out))


@pytest.mark.parametrize(("cut", "why"), [(-1, "truncated"), (+1, "malformed")])
def test_truncated_or_trailing_output_is_an_error(cut: int, why: str) -> None:
    out = encode(_ingested())
    out = out[:cut] if cut < 0 else out + b"x"
    with pytest.raises(RuntimeError, match=why):
        read_output(io.BytesIO(out))
