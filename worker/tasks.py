"""Inference tasks: decode, the shared preprocessing, one (micro-batched) forward pass, emit.

Input was validated by the web process already, but a worker trusts nothing on the queue:
bad input becomes an `error` answer, never an exception that kills the worker.
"""

from __future__ import annotations

import base64
import logging
import time
from typing import Any

import numpy as np
from celery import shared_task

from shared import events
from shared.batches import load_chunk, record_results
from shared.classifier import prediction_dict
from shared.preprocess import InvalidInput, to_mnist
from shared.settings import get_settings
from shared.wire import unpack
from worker.runtime import get_runtime

log = logging.getLogger(__name__)


def image28_b64(digit: np.ndarray) -> str:
    """What the model saw, for the page's preview: 784 bytes in base64, not 784 JSON numbers
    (which every hop, web relay included, would scan, decode and re-encode)."""
    return base64.b64encode(np.ascontiguousarray(digit, np.uint8).tobytes()).decode()


def prepare(item: Any) -> np.ndarray | None:
    """Wire item -> MNIST-style digit (None when empty); raises InvalidInput."""
    return to_mnist(unpack(item))


def classify_items(items: list[Any], with_image: bool = False,
                   live: bool = False) -> list[dict[str, Any]]:
    """Classify many items in one forward pass; each gets a prediction or its own error.

    `live` items (someone is waiting) go before batch chunks in the micro-batcher.
    """
    results: list[dict[str, Any] | None] = [None] * len(items)
    digits: list[np.ndarray] = []
    slots: list[int] = []
    for i, item in enumerate(items):
        try:
            digit = prepare(item)
        except InvalidInput as exc:
            results[i] = {"error": str(exc)}
            continue
        except Exception as exc:  # a decoder bug must not cost the other items
            log.exception("unexpected failure decoding item %d", i)
            results[i] = {"error": f"could not read this item ({type(exc).__name__})"}
            continue
        if digit is None:
            results[i] = prediction_dict(None, None)
            if with_image:
                results[i]["image28_b64"] = image28_b64(np.zeros((28, 28), np.uint8))
        else:
            digits.append(digit)
            slots.append(i)
    runtime = get_runtime()
    version = runtime.holder.current().version
    if digits:
        probs, version = runtime.batcher.classify(np.stack(digits), live=live)
        for row, i in enumerate(slots):
            results[i] = prediction_dict(probs[row], version)
            if with_image:
                results[i]["image28_b64"] = image28_b64(digits[row])
    for res in results:
        if res is not None and "digit" in res:
            res["model_version"] = res["model_version"] or version
            res["worker"] = runtime.holder.hostname
    return results  # type: ignore[return-value]


@shared_task(name="worker.tasks.classify_frame", ignore_result=True)
def classify_frame(sid: str, seq: int, item: Any, sent_at: float | None = None) -> None:
    """A live `draw` frame: answer that client only.

    The web's frame gate sends a client's next frame only after this one is answered, so a
    frame is never stale on arrival; one redelivered after a crash is dropped by its Celery
    `expires` instead of being computed late.
    """
    result = classify_items([item], with_image=True, live=True)[0]
    if "error" in result:
        log.info("rejected frame seq=%s from %s: %s", seq, sid, result["error"])
        events.emit("error", {"seq": seq, "error": result["error"]}, to=sid)
        return
    events.emit("prediction", {"seq": seq, **result}, to=sid)


@shared_task(name="worker.tasks.predict")
def predict(item: Any) -> dict[str, Any]:
    """REST `/api/predict`: the prediction travels back through the result backend."""
    return classify_items([item], live=True)[0]


@shared_task(name="worker.tasks.classify_chunk", ignore_result=True)
def classify_chunk(batch_id: str, chunk: int) -> None:
    """One chunk of a batch: one forward pass, idempotent result writes, a progress event."""
    r = events.redis_client()
    payload = load_chunk(r, batch_id, chunk)
    if payload is None:  # a duplicate delivery of a chunk that is already done
        return
    indices, items = payload
    started = time.perf_counter()
    results = classify_items(items)
    done, total = record_results(r, batch_id, dict(zip(indices, results, strict=True)),
                                 get_settings().batch_ttl_s, chunk=chunk)
    events.emit("batch_progress", {"batch_id": batch_id, "done": done, "total": total},
                to=batch_id)
    log.debug("batch %s: %d items in %.1f ms (%d/%d done)", batch_id, len(items),
             (time.perf_counter() - started) * 1000, done, total)
