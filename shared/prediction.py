"""The contract's prediction object, and classifying many items in one forward pass.

TensorFlow-free: the forward pass is handed in as a function, so the worker (through its
micro-batcher) and `digitflow predict` (through a Classifier) share one routine.
"""

from __future__ import annotations

import base64
import logging
from collections.abc import Callable
from typing import Any

import numpy as np

from shared.calibration import CONFIDENCE, DIGITS, REJECTED, SCORED_WIDTH, rejection_name
from shared.preprocess import InvalidInput

log = logging.getLogger(__name__)

# digits uint8 (n, 28, 28) -> (probabilities (n, 10) or scored rows (n, 12), see
# shared.calibration, and the model version that produced them)
PredictFn = Callable[[np.ndarray], tuple[np.ndarray, int | None]]
# an item (wire item, file path, ...) -> MNIST-style digit, or None when empty; InvalidInput
PrepareFn = Callable[[Any], np.ndarray | None]


def prediction_dict(probs: np.ndarray | None, version: int | None) -> dict[str, Any]:
    """The contract's prediction object; `probs is None` means the drawing was empty. A
    scored row (12 numbers) also gives `confidence` and `rejected`."""
    if probs is None:
        return {"digit": None, "probabilities": [0.0] * 10, "model_version": version,
                "empty": True}
    out: dict[str, Any] = {
        "digit": int(np.argmax(probs[:DIGITS])),
        "probabilities": [round(float(p), 6) for p in probs[:DIGITS]],
        "model_version": version,
    }
    if len(probs) == SCORED_WIDTH:
        out.update(rejection_fields(probs))
    return out


def rejection_fields(row: np.ndarray) -> dict[str, Any]:
    """`confidence` (calibrated) and `rejected` of a scored row (issue 12)."""
    return {"confidence": round(float(row[CONFIDENCE]), 6),
            "rejected": rejection_name(row[REJECTED])}


def image28_b64(digit: np.ndarray) -> str:
    """What the model saw, for the page's preview: 784 bytes in base64, not 784 JSON numbers
    (which every hop, the web's relay included, would scan, decode and re-encode)."""
    return base64.b64encode(np.ascontiguousarray(digit, np.uint8).tobytes()).decode()


def finish_answer(result: dict[str, Any], digit: np.ndarray | None, with_image: bool,
                  worker: str) -> dict[str, Any]:
    """A live answer's last touches: the preview of what the model saw (a blank one for an
    empty drawing) when asked, and the worker's name on a prediction."""
    if with_image:
        result["image28_b64"] = image28_b64(digit if digit is not None
                                            else np.zeros((28, 28), np.uint8))
    if "digit" in result:
        result["worker"] = worker
    return result


def classify_items(items: list[Any], prepare: PrepareFn, predict: PredictFn,
                   version: int | None, with_image: bool = False) -> list[dict[str, Any]]:
    """Classify many items in one forward pass; each gets a prediction or its own error.

    Empty drawings are answered without the model (with `version`); a bad item costs only
    its own slot, never the others.
    """
    results: list[dict[str, Any]] = [{} for _ in items]
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
            results[i] = prediction_dict(None, version)
            if with_image:
                results[i]["image28_b64"] = image28_b64(np.zeros((28, 28), np.uint8))
        else:
            digits.append(digit)
            slots.append(i)
    if digits:
        probs, used = predict(np.stack(digits))
        for row, i in enumerate(slots):
            results[i] = prediction_dict(probs[row], used)
            if with_image:
                results[i]["image28_b64"] = image28_b64(digits[row])
    return results
