"""Batch submission: many images in, chunks of one forward pass each onto the queue.

Each item is checked here; a bad one gets its own error result straight away and the rest
of the batch goes on. Results and progress come back from the workers through Redis.
"""

from __future__ import annotations

import uuid
from typing import Any

from flask import Blueprint, jsonify, request
from werkzeug.datastructures import FileStorage
from werkzeug.exceptions import NotFound

from shared.batch_body import Ingested, check_count, chunked
from shared.batches import add_chunk_payloads, create_batch, read_batch, record_results
from shared.celery_app import CLASSIFY_CHUNK_TASK
from shared.preprocess import MAX_IMAGE_BYTES, InvalidInput
from shared.settings import Settings
from shared.wire import image_item
from webapp.batch_body import read_json_batch
from webapp.capacity import RETRY_AFTER_S as ROOM_RETRY_AFTER_S
from webapp.capacity import batch_room_problem
from webapp.cooperative import in_steps
from webapp.requests_json import request_json_pieces
from webapp.services import redis_client, send, settings

bp = Blueprint("batches", __name__)
IMAGE_MAGIC = (b"\x89PNG\r\n\x1a\n", b"\xff\xd8\xff")
FORM_PARTS_SLACK = 1  # one part past the item limit, so "too many items" names the cause
CHUNKS_PER_STEP = 2  # chunks stored and queued between pauses: ~4-5 ms of work here


def _item_from_upload(upload: FileStorage) -> dict[str, Any] | InvalidInput:
    """An uploaded file as a wire item, or the error that disqualifies it."""
    raw = upload.read(MAX_IMAGE_BYTES + 1)
    if len(raw) > MAX_IMAGE_BYTES:
        return InvalidInput(f"file is too large: at most {MAX_IMAGE_BYTES // 1024} KiB")
    if not raw.startswith(IMAGE_MAGIC):
        return InvalidInput("file is not a PNG or JPEG")
    return image_item(raw)  # fully decoded by the worker, which reports a corrupt body per item


def _items(s: Settings) -> Ingested:
    """The batch's items from multipart files or a JSON list, counted before decoding."""
    if request.files:
        uploads = request.files.getlist("images")
        check_count(len(uploads), s.max_batch_items)
        return chunked([_item_from_upload(u) for u in uploads], s.batch_chunk_size)
    return read_json_batch(request_json_pieces(), s.max_batch_items,
                           s.batch_chunk_size,
                           s.batch_inline_max_bytes, s.background_nice)


@bp.post("/api/batches")
def submit():  # type: ignore[no-untyped-def]
    """Queue a batch and answer at once with its id; progress arrives as events."""
    s = settings()
    request.max_content_length = s.max_batch_bytes
    request.max_form_parts = s.max_batch_items + FORM_PARTS_SLACK  # Werkzeug's default: 1,000
    r = redis_client()
    full = batch_room_problem(r, s.redis_memory_high)
    if full:
        return jsonify(error=full), 503, {"Retry-After": str(ROOM_RETRY_AFTER_S)}
    batch = _items(s)
    batch_id = uuid.uuid4().hex
    create_batch(r, batch_id, batch.total, s.batch_ttl_s)
    if batch.errors:
        record_results(r, batch_id, {i: {"error": e} for i, e in batch.errors.items()},
                       s.batch_ttl_s)
    for step in in_steps(len(batch.payloads), CHUNKS_PER_STEP):  # live frames go between
        for n in add_chunk_payloads(r, batch_id, batch.payloads[step.start : step.stop],
                                    s.batch_ttl_s, first=step.start):
            send(CLASSIFY_CHUNK_TASK, batch_id, n, ignore_result=True)
    return jsonify(batch_id=batch_id, total=batch.total), 202


@bp.get("/api/batches/<batch_id>")
def status(batch_id: str):  # type: ignore[no-untyped-def]
    """Status, progress and (unless `?results=0`) the results in submission order."""
    with_results = request.args.get("results", "1") not in ("0", "false", "no")
    view = read_batch(redis_client(), batch_id, with_results=with_results)
    if view is None:
        raise NotFound(f"no batch {batch_id[:64]!r} (unknown, or its results expired)")
    return jsonify(view)
