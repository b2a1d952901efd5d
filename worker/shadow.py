"""Shadow mode in the worker: a frame answered by the active model and an admin's shadow
version in one micro-batcher loop iteration, and the review of where the two disagree.

The shadow model comes from the process's small cache (worker/shadow_models.py), loaded in
this task thread; the micro-batcher runs the extra pass right after the active one
(worker/batcher.py). A shadow that cannot be loaded or fails its pass costs the `shadow`
part of the answer only: the active model's answer is always given.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from typing import Any

import numpy as np

from shared.prediction import finish_answer, prediction_dict
from shared.preprocess import InvalidInput
from shared.redis_keys import FEEDBACK_LIST
from shared.saliency import explained_prediction
from shared.shadow_compare import MAX_DRAWINGS, disagreements
from worker.batcher import ShadowedResult
from worker.runtime import get_runtime
from worker.shadow_models import ScoringModel

log = logging.getLogger(__name__)
ANSWER_TIMEOUT_S = 60.0

PrepareFn = Callable[[Any], np.ndarray | None]


def _shadow_model(version: int) -> ScoringModel | str:
    """The loaded shadow model, or the reason it cannot serve."""
    try:
        return get_runtime().shadows.get(version)
    except Exception as exc:  # a deleted or broken version: the active answer still goes out
        log.warning("shadow version %s unavailable: %s", version, exc)
        return f"shadow version {version} could not be loaded"


def _shadow_part(result: ShadowedResult, version: int) -> dict[str, Any]:
    if result.shadow_probs is None:
        return {"error": f"shadow version {version} failed on this drawing",
                "model_version": version}
    return prediction_dict(result.shadow_probs[0], result.shadow_version)


def classify_shadowed(item: Any, version: int, explain: bool, prepare: PrepareFn,
                      with_image: bool = False) -> dict[str, Any]:
    """One live item answered by the active model (with saliency if asked) and under
    `shadow` by `version`: one extra forward pass, of the drawn digit only."""
    runtime = get_runtime()
    active_version = runtime.holder.current().version
    try:
        digit = prepare(item)
    except InvalidInput as exc:
        return {"error": str(exc)}
    model = _shadow_model(version)
    if digit is None or isinstance(model, str):
        result = _unshadowed(digit, explain, active_version)
        result["shadow"] = (prediction_dict(None, version) if digit is None
                            else {"error": model, "model_version": version})
    else:
        result = _both(digit, model, version, explain, active_version)
    return finish_answer(result, digit, with_image, runtime.holder.hostname)


def _unshadowed(digit: np.ndarray | None, explain: bool, version: int | None
                ) -> dict[str, Any]:
    """The active model's answer alone (an empty drawing, or no shadow model to ask)."""
    batcher = get_runtime().batcher

    def predict(stack: np.ndarray) -> tuple[np.ndarray, int | None]:
        return batcher.classify(stack, live=True)

    if explain:
        return explained_prediction(digit, predict, version)
    if digit is None:
        return prediction_dict(None, version)
    rows, used = predict(digit[None])
    return prediction_dict(rows[0], used)


def _both(digit: np.ndarray, model: ScoringModel, version: int, explain: bool,
          active_version: int | None) -> dict[str, Any]:
    """One batcher request: the active pass over the digit (or its occlusion stack), the
    shadow pass over the digit's own row."""
    runtime = get_runtime()
    batcher = runtime.batcher
    answers: list[ShadowedResult] = []
    # the shadow is the serving version itself: its answer is the active one (and the model
    # is never entered by two threads at once)
    same = model is runtime.holder.current()

    def predict(stack: np.ndarray) -> tuple[np.ndarray, int | None]:
        if same:
            probs, used = batcher.classify(stack, live=True)
            answers.append(ShadowedResult(probs, used, probs[:1], used))
            return probs, used
        res = batcher.submit_shadowed(stack, model, shadow_rows=1).result(ANSWER_TIMEOUT_S)
        answers.append(res)
        return res.probs, res.version

    if explain:
        result = explained_prediction(digit, predict, active_version)
    else:
        rows, used = predict(digit[None])
        result = prediction_dict(rows[0], used)
    result["shadow"] = _shadow_part(answers[0], version)
    return result


def review(version: int, last: int) -> dict[str, Any]:
    """The newest `last` feedback drawings through the active version and `version` (one
    bulk batcher request: it never sits in front of a live frame); where they disagree."""
    runtime = get_runtime()
    last = max(1, min(int(last), MAX_DRAWINGS))
    records = [json.loads(raw) for raw in runtime.redis.lrange(FEEDBACK_LIST, 0, last - 1)]
    active_version = runtime.holder.current().version
    model = _shadow_model(version)
    if isinstance(model, str):
        return {"error": model}
    if not records:
        return disagreements(np.zeros((0, 28, 28), np.uint8), [], np.zeros((0, 12)),
                             active_version, np.zeros((0, 12)), version)
    digits = np.asarray([rec["digit"] for rec in records], np.uint8)
    labels = [int(rec["label"]) for rec in records]
    if model is runtime.holder.current():  # the serving version itself: one pass is both
        probs, used = runtime.batcher.classify(digits, ANSWER_TIMEOUT_S)
        return disagreements(digits, labels, probs, used, probs, used)
    res = runtime.batcher.submit_shadowed(digits, model, live=False).result(ANSWER_TIMEOUT_S)
    if res.shadow_probs is None:
        return {"error": f"shadow version {version} failed on the feedback drawings"}
    return disagreements(digits, labels, res.probs, res.version, res.shadow_probs,
                         res.shadow_version)
