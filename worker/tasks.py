"""Inference tasks: decode, the shared preprocessing, one (micro-batched) forward pass, emit.

Input was checked by the web process already, but a worker trusts nothing on the queue:
bad input becomes an `error` answer, never an exception that kills the worker. Images are
decoded here, once (the web only reads their header).
"""

from __future__ import annotations

import functools
import logging
import threading
import time
from typing import Any

import numpy as np
from celery import shared_task

from shared import events
from shared.batches import load_chunk, record_results
from shared.celery_app import (
    CLASSIFY_CHUNK_TASK,
    CLASSIFY_FRAME_TASK,
    PREDICT_TASK,
    SHADOW_REVIEW_TASK,
)
from shared.number_wire import is_number_item
from shared.prediction import classify_items, finish_answer
from shared.preprocess import InvalidInput, to_mnist
from shared.saliency import explained_prediction, split_explain
from shared.shadow_wire import split_shadow
from shared.wire import unpack
from worker.metrics import ERRORS, PREPROCESS_SECONDS
from worker.numbers import classify_with_numbers
from worker.runtime import get_runtime
from worker.shadow import classify_shadowed, review

log = logging.getLogger(__name__)
# Batch chunks preparing their items at once. Preparation is Python holding the GIL; with all
# task threads preparing chunks, a live frame's own few ms of Python waited behind 8 threads.
# Two keep the model fed (a forward pass takes two chunks) and leave the GIL to live frames.
CHUNKS_PREPARING = 2
_chunk_slots = threading.BoundedSemaphore(CHUNKS_PREPARING)


def prepare(item: Any) -> np.ndarray | None:
    """Wire item -> MNIST-style digit (None when empty); raises InvalidInput."""
    with PREPROCESS_SECONDS.time():
        return to_mnist(unpack(item))


def _prepare_or_error(item: Any) -> np.ndarray | None | Exception:
    try:
        return prepare(item)
    except Exception as exc:  # handed back to classify_items, which reports it per item
        return exc


def _replay(prepared: np.ndarray | None | Exception) -> np.ndarray | None:
    if isinstance(prepared, Exception):
        raise prepared
    return prepared


def classify_wire_items(items: list[Any], with_image: bool = False,
                        live: bool = False) -> list[dict[str, Any]]:
    """Classify wire items through this process's micro-batcher; answers name the worker.

    `live` items (someone is waiting for them) go before batch chunks in the micro-batcher;
    batch items are prepared by at most CHUNKS_PREPARING chunks at once.
    """
    if any(is_number_item(item) for item in items):  # number mode: worker/numbers.py
        return classify_with_numbers(items, prepare, _chunk_slots, with_image, live)
    runtime = get_runtime()
    version = runtime.holder.current().version  # loads the model on first use
    predict = functools.partial(runtime.batcher.classify, live=live)
    if live:
        results = classify_items(items, prepare, predict, version, with_image)
    else:
        with _chunk_slots:
            prepared = [_prepare_or_error(item) for item in items]
        results = classify_items(prepared, _replay, predict, version, with_image)
    for res in results:
        if "digit" in res:
            res["worker"] = runtime.holder.hostname
    ERRORS.labels("invalid_input").inc(sum("error" in res for res in results))
    return results


def classify_explained(item: Any, with_image: bool = False) -> dict[str, Any]:
    """One live item with `saliency` (issue 12): the occlusion stack of its digit goes through
    the micro-batcher as one live request, i.e. one forward pass."""
    runtime = get_runtime()
    version = runtime.holder.current().version
    try:
        digit = prepare(item)
    except InvalidInput as exc:
        return {"error": str(exc)}
    predict = functools.partial(runtime.batcher.classify, live=True)
    result = explained_prediction(digit, predict, version)
    return finish_answer(result, digit, with_image, runtime.holder.hostname)


def classify_one_live(item: Any, with_image: bool = False) -> dict[str, Any]:
    """A live frame or REST item, explained when it asks to be, and answered by a shadow
    version too when an admin's session set one (worker/shadow.py)."""
    item, explain = split_explain(item)
    item, shadow = split_shadow(item)
    if shadow is not None:
        return classify_shadowed(item, shadow, explain, prepare, with_image)
    if explain:
        return classify_explained(item, with_image)
    return classify_wire_items([item], with_image=with_image, live=True)[0]


@shared_task(name=CLASSIFY_FRAME_TASK, ignore_result=True)
def classify_frame(sid: str, seq: int, item: Any, sent_at: float | None = None) -> None:
    """A live `draw` frame: answer that client only. A `digitflow worker` pops frames itself
    (worker/frames.py) and calls this task only for frames it cannot batch; any other Celery
    worker (`-Q frames`) runs it per message.

    The web's frame gate sends a client's next frame only after this one is answered, so a
    frame is never stale on arrival; one redelivered after a crash is dropped by its Celery
    `expires` instead of being computed late. (`sent_at` is accepted for older senders.)
    """
    answer_frame(sid, seq, classify_one_live(item, with_image=True))


def answer_frame(sid: str, seq: int, result: dict[str, Any]) -> None:
    """Send a frame's answer (or its error) to that client only, through the message queue."""
    url = get_runtime().settings.redis_url
    if "error" in result:
        log.info("rejected frame seq=%s from %s: %s", seq, sid, result["error"])
        events.emit(url, "error", {"seq": seq, "error": result["error"]}, to=sid)
        return
    events.emit(url, "prediction", {"seq": seq, **result}, to=sid)


@shared_task(name=PREDICT_TASK)
def predict(item: Any) -> dict[str, Any]:
    """REST `/api/predict`: the prediction travels back through the result backend."""
    return classify_one_live(item)


@shared_task(name=SHADOW_REVIEW_TASK)
def shadow_review(version: int, last: int) -> dict[str, Any]:
    """The admin's review: where `version` and the active one disagree on the newest `last`
    feedback drawings (through the result backend, like `predict`). The queue is not
    trusted: bad arguments or a failure become an `error` answer, never a raised task."""
    if not all(isinstance(v, int) and not isinstance(v, bool) for v in (version, last)):
        return {"error": "the review needs an integer version and count"}
    try:
        return review(version, last)
    except Exception:
        log.exception("shadow review of version %s failed", version)
        ERRORS.labels("task").inc()
        return {"error": f"the review of version {version} failed on the worker"}


@shared_task(name=CLASSIFY_CHUNK_TASK, ignore_result=True)
def classify_chunk(batch_id: str, chunk: int) -> None:
    """One chunk of a batch: one forward pass, idempotent result writes, a progress event."""
    runtime = get_runtime()
    r = runtime.redis
    payload = load_chunk(r, batch_id, chunk)
    if payload is None:  # a duplicate delivery of a chunk that is already done
        return
    indices, items = payload
    started = time.perf_counter()
    results = classify_wire_items(items)
    done, total = record_results(r, batch_id, dict(zip(indices, results, strict=True)),
                                 runtime.settings.batch_ttl_s, chunk=chunk)
    events.emit(runtime.settings.redis_url, "batch_progress",
                {"batch_id": batch_id, "done": done, "total": total}, to=batch_id)
    log.debug("batch %s: %d items in %.1f ms (%d/%d done)", batch_id, len(items),
              (time.perf_counter() - started) * 1000, done, total)
