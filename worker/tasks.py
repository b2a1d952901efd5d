"""Inference tasks: decode, the shared preprocessing, one (micro-batched) forward pass, emit.

Input was validated by the web process already, but a worker trusts nothing on the queue:
bad input becomes an `error` answer, never an exception that kills the worker.
"""

from __future__ import annotations

import logging
import time
from typing import Any

import numpy as np
from celery import shared_task

from shared import events
from shared.classifier import prediction_dict
from shared.preprocess import InvalidInput, decode_payload, to_mnist
from shared.redis_keys import COALESCED_COUNTER, latest_seq
from worker.runtime import get_runtime

log = logging.getLogger(__name__)


def classify_item(item: dict[str, Any], with_image: bool = False) -> dict[str, Any]:
    """One payload to one prediction dict (or `{"error": ...}`), through the batcher."""
    try:
        digit = to_mnist(decode_payload(item))
    except InvalidInput as exc:
        return {"error": str(exc)}
    runtime = get_runtime()
    if digit is None:
        result = prediction_dict(None, runtime.holder.current().version)
    else:
        probs, version = runtime.batcher.classify(digit[None])
        result = prediction_dict(probs[0], version)
    if with_image:
        result["image28"] = (digit if digit is not None else np.zeros((28, 28), np.uint8)).tolist()
    return result


def is_stale(sid: str, seq: int) -> bool:
    """True when the client has already sent a newer frame than `seq`."""
    newest = events.redis_client().get(latest_seq(sid))
    return newest is not None and int(newest) > seq


@shared_task(name="worker.tasks.classify_frame", ignore_result=True)
def classify_frame(sid: str, seq: int, item: dict[str, Any], sent_at: float | None = None) -> None:
    """A live `draw` frame: answer that client only, skipping frames already superseded."""
    if is_stale(sid, seq):
        events.redis_client().incr(COALESCED_COUNTER)
        return
    result = classify_item(item, with_image=True)
    if "error" in result:
        log.info("rejected frame seq=%s from %s: %s", seq, sid, result["error"])
        events.emit("error", {"seq": seq, "error": result["error"]}, to=sid)
        return
    if sent_at is not None:
        log.debug("frame seq=%s answered %.1f ms after it was queued", seq,
                  (time.time() - sent_at) * 1000)
    events.emit("prediction", {"seq": seq, **result}, to=sid)


@shared_task(name="worker.tasks.predict")
def predict(item: dict[str, Any]) -> dict[str, Any]:
    """REST `/api/predict`: the prediction travels back through the result backend."""
    return classify_item(item)
