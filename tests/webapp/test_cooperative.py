"""Long request work in pieces (webapp/cooperative.py), and a batch queued a few chunks at a
time still stores and queues every chunk once, numbered in order."""

from __future__ import annotations

import io
import json

import fakeredis
import pytest

from shared.batches import load_chunk
from shared.celery_app import CLASSIFY_CHUNK_TASK
from shared.model_store import ModelStore
from tests.utils.recording_sender import RecordingSender
from webapp import cooperative, create_app
from webapp.batches import CHUNKS_PER_STEP
from webapp.services import Services


@pytest.fixture
def pauses(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """Records the pauses (the real one only yields or sleeps, which a test cannot see)."""
    seen: list[float] = []
    monkeypatch.setattr(cooperative, "pause", lambda seconds=0.0: seen.append(seconds))
    return seen


def test_read_pieces_returns_every_byte_unjoined_and_pauses_after_each_piece(pauses) -> None:  # type: ignore[no-untyped-def]
    data = bytes(range(256)) * 41  # 10,496 bytes
    pieces = cooperative.read_pieces(io.BytesIO(data), piece=1000)
    assert [len(p) for p in pieces] == [1000] * 10 + [496]
    assert b"".join(pieces) == data
    assert pauses == [cooperative.PIECE_PAUSE_S] * 11  # ten full pieces and the short one
    assert cooperative.read_pieces(io.BytesIO(b"")) == []


def test_write_pieces_writes_them_in_order_with_a_pause_after_each(pauses) -> None:  # type: ignore[no-untyped-def]
    out = io.BytesIO()
    cooperative.write_pieces(out, [b"ab", b"", b"cde"])
    assert out.getvalue() == b"abcde" and len(pauses) == 3


def test_in_steps_covers_the_range_once_and_pauses_between_steps(pauses) -> None:  # type: ignore[no-untyped-def]
    steps = list(cooperative.in_steps(20, 8))
    assert [list(s) for s in steps] == [list(range(8)), list(range(8, 16)), [16, 17, 18, 19]]
    assert len(pauses) == 2  # between the three steps, not before the first
    assert list(cooperative.in_steps(0, 8)) == []


def test_a_batch_of_many_chunks_is_stored_and_queued_whole(tmp_path, pauses) -> None:  # type: ignore[no-untyped-def]
    n = 3 * CHUNKS_PER_STEP + 2  # one item per chunk: four steps
    r = fakeredis.FakeRedis()
    sender = RecordingSender()
    services = Services(redis=r, send_task=sender, store=ModelStore(str(tmp_path / "m")),
                        announce_activation=lambda v: None, message_queue=None)
    app = create_app({"batch_chunk_size": 1, "max_batch_items": n,
                      "model_store": str(tmp_path / "m")}, services)
    body = json.dumps({"images": [{"pixels": [[i % 256] * 28] * 28} for i in range(n)]})
    resp = app.test_client().post("/api/batches", data=body,
                                  headers={"Content-Type": "application/json"})
    assert resp.status_code == 202, resp.get_json()
    batch_id = resp.get_json()["batch_id"]
    queued = [t.args for t in sender.sent if t.name == CLASSIFY_CHUNK_TASK]
    assert queued == [[batch_id, k] for k in range(n)]  # every chunk once, in order
    for k in range(n):
        indices, items = load_chunk(r, batch_id, k)  # type: ignore[misc]
        assert indices == [k] and len(items) == 1
    assert len(pauses) >= 3  # the body read and between the four steps
