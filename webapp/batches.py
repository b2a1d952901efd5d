"""Batch submission: many images in, chunks of one forward pass each onto the queue.

Each item is checked here; a bad one gets its own error result straight away and the rest
of the batch goes on. Results and progress come back from the workers through Redis.
"""

from __future__ import annotations

import uuid
from typing import Any

from flask import Blueprint, jsonify, request
from werkzeug.exceptions import NotFound

from shared.batches import add_chunks, create_batch, read_batch, record_results
from shared.celery_app import CLASSIFY_CHUNK_TASK
from shared.preprocess import MAX_IMAGE_BYTES, InvalidInput
from shared.wire import checked, image_item
from webapp.batch_body import iter_images, off_loop
from webapp.requests_json import json_object
from webapp.services import redis_client, send, settings

bp = Blueprint("batches", __name__)
IMAGE_MAGIC = (b"\x89PNG\r\n\x1a\n", b"\xff\xd8\xff")


def _items_from_multipart() -> list[dict[str, Any] | InvalidInput]:
    """Uploaded files as wire items, or the error that disqualifies each one."""
    items: list[dict[str, Any] | InvalidInput] = []
    for upload in request.files.getlist("images"):
        raw = upload.read(MAX_IMAGE_BYTES + 1)
        if len(raw) > MAX_IMAGE_BYTES:
            items.append(InvalidInput(f"file is too large: at most {MAX_IMAGE_BYTES // 1024} KiB"))
        elif not raw.startswith(IMAGE_MAGIC):
            items.append(InvalidInput("file is not a PNG or JPEG"))
        else:  # fully decoded by the worker, which reports a corrupt body per item
            items.append(image_item(raw))
    return items


def _checked_items(images: Any) -> list[dict[str, Any] | InvalidInput]:
    """Each item validated now and sent on in compact form, or the error that disqualifies it."""
    if not isinstance(images, list):
        raise InvalidInput("'images' must be a list of {\"pixels\"|\"image\": ...} objects")
    items: list[dict[str, Any] | InvalidInput] = []
    for entry in images:
        try:
            items.append(checked(entry))
        except InvalidInput as exc:
            items.append(exc)
    return items


def _parse_and_check(raw: bytes) -> list[dict[str, Any] | InvalidInput] | None:
    images = iter_images(raw)
    return None if images is None else _checked_items(images)


def _items_from_json() -> list[dict[str, Any] | InvalidInput]:
    """JSON items, parsed and checked off the event loop (webapp/batch_body.py)."""
    items = off_loop(_parse_and_check, request.get_data(cache=True))
    if items is not None:
        return items
    return _checked_items(json_object({"images"}).get("images"))


@bp.post("/api/batches")
def submit():  # type: ignore[no-untyped-def]
    """Queue a batch and answer at once with its id; progress arrives as events."""
    s = settings()
    request.max_content_length = s.max_batch_bytes
    items = _items_from_multipart() if request.files else _items_from_json()
    if not items:
        raise InvalidInput("the batch is empty: send files in 'images' or a JSON 'images' list")
    if len(items) > s.max_batch_items:
        raise InvalidInput(f"too many items: at most {s.max_batch_items} per batch")
    batch_id = uuid.uuid4().hex
    r = redis_client()
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
        raise NotFound(f"no batch {batch_id} (unknown, or its results expired)")
    return jsonify(view)
