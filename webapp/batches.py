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

from shared.batches import add_chunks, create_batch, read_batch, record_results
from shared.celery_app import CLASSIFY_CHUNK_TASK
from shared.number_wire import checked_any
from shared.preprocess import MAX_IMAGE_BYTES, InvalidInput
from shared.wire import image_item
from webapp.batch_body import off_loop
from webapp.capacity import RETRY_AFTER_S as ROOM_RETRY_AFTER_S
from webapp.capacity import batch_room_problem
from webapp.requests_json import parse_object, request_json_bytes
from webapp.services import redis_client, send, settings

bp = Blueprint("batches", __name__)
IMAGE_MAGIC = (b"\x89PNG\r\n\x1a\n", b"\xff\xd8\xff")
FORM_PARTS_SLACK = 1  # one part past the item limit, so "too many items" names the cause


def _item_from_upload(upload: FileStorage) -> dict[str, Any] | InvalidInput:
    """An uploaded file as a wire item, or the error that disqualifies it."""
    raw = upload.read(MAX_IMAGE_BYTES + 1)
    if len(raw) > MAX_IMAGE_BYTES:
        return InvalidInput(f"file is too large: at most {MAX_IMAGE_BYTES // 1024} KiB")
    if not raw.startswith(IMAGE_MAGIC):
        return InvalidInput("file is not a PNG or JPEG")
    return image_item(raw)  # fully decoded by the worker, which reports a corrupt body per item


def _item_from_json(entry: Any) -> dict[str, Any] | InvalidInput:
    """A JSON item checked now and sent on in compact form (images are decoded once, by the
    worker), or its error."""
    try:
        return checked_any(entry)  # a plain item, or one with "mode" (shared/number.py)
    except InvalidInput as exc:
        return exc


def _check_count(count: int, limit: int) -> None:
    """Refuse an empty or oversized batch before any item is decoded."""
    if not count:
        raise InvalidInput("the batch is empty: send files in 'images' or a JSON 'images' list")
    if count > limit:
        raise InvalidInput(f"too many items: at most {limit} per batch, got {count}")


def _json_items(raw: bytes, limit: int) -> list[dict[str, Any] | InvalidInput]:
    """Parse strictly, count, then check each item.

    Seconds of CPU for a 20,000-image body, so the caller runs it off the event loop: the
    strict parser calls back into Python for every object, so the GIL changes hands often and
    the gevent hub keeps serving live drawers meanwhile (webapp/batch_body.py).
    """
    images = parse_object(raw, {"images"}).get("images")
    if not isinstance(images, list):
        raise InvalidInput("'images' must be a list of {\"pixels\"|\"image\": ...} objects")
    _check_count(len(images), limit)
    return [_item_from_json(entry) for entry in images]


def _items(limit: int) -> list[dict[str, Any] | InvalidInput]:
    """The batch's items from multipart files or a JSON list, counted before decoding."""
    if request.files:
        uploads = request.files.getlist("images")
        _check_count(len(uploads), limit)
        return [_item_from_upload(u) for u in uploads]
    return off_loop(_json_items, request_json_bytes(), limit)


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
    items = _items(s.max_batch_items)
    batch_id = uuid.uuid4().hex
    create_batch(r, batch_id, len(items), s.batch_ttl_s)
    errors = {i: {"error": str(it)} for i, it in enumerate(items) if isinstance(it, Exception)}
    if errors:
        record_results(r, batch_id, errors, s.batch_ttl_s)
    good = [(i, it) for i, it in enumerate(items) if not isinstance(it, Exception)]
    chunks = [good[start : start + s.batch_chunk_size]
              for start in range(0, len(good), s.batch_chunk_size)]
    numbers = add_chunks(r, batch_id, [([i for i, _ in c], [it for _, it in c]) for c in chunks],
                         s.batch_ttl_s)
    for n in numbers:
        send(CLASSIFY_CHUNK_TASK, batch_id, n, ignore_result=True)
    return jsonify(batch_id=batch_id, total=len(items)), 202


@bp.get("/api/batches/<batch_id>")
def status(batch_id: str):  # type: ignore[no-untyped-def]
    """Status, progress and (unless `?results=0`) the results in submission order."""
    with_results = request.args.get("results", "1") not in ("0", "false", "no")
    view = read_batch(redis_client(), batch_id, with_results=with_results)
    if view is None:
        raise NotFound(f"no batch {batch_id[:64]!r} (unknown, or its results expired)")
    return jsonify(view)
