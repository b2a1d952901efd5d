"""Number mode: reading whole numbers in the same forward pass as single digits.

A worker (or `digitflow predict --number`, or bench/whole_numbers.py) cuts a number into places
(`shared.segment`), turns every crop of every reading through the one `to_mnist`, and
classifies them with any single-digit items of the same call in ONE forward pass
(`classify_items`); then, per place, the reading the model is surest of wins. The answer is
the contract's `{"number": "2026", "digits": [prediction + image28_b64, ...],
"model_version": ...}`. TensorFlow-free, like `shared.prediction`.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable
from typing import Any

import numpy as np

from shared.prediction import PredictFn, classify_items
from shared.preprocess import InvalidInput, to_mnist
from shared.segment import Box, Slot, segment_number

log = logging.getLogger(__name__)

MAX_DIGITS = 12  # a longer number is refused with a 400 (or a socket `error`)
# Whether a place that can be read whole or cut is two digits: a logistic regression on
# split_features. The model alone reads the halves of a wide 0 as two sure digits and a
# touching "17" as one sure digit; the place's width for its line settles most of those.
# Fitted by `python bench/whole_numbers.py --tune` on numbers composed from MNIST *train* digits and
# from the tuning half of the pendigits writers, never on what bench/whole_numbers.py reports on.
SPLIT_WEIGHTS = (-15.939, 13.107, -1.183, 1.678, 0.593, -0.588)


def number_slots(ink: np.ndarray, strokes: list[Box] | None = None
                 ) -> list[Slot]:
    """The places of a number, refusing more than MAX_DIGITS."""
    slots = segment_number(ink, strokes)
    if len(slots) > MAX_DIGITS:
        raise InvalidInput(f"too many digits: at most {MAX_DIGITS}, found {len(slots)}")
    return slots


def split_features(slot: Slot, whole_log_p: float, cut_log_p: float, cut_ink: float
                   ) -> list[float]:
    """What decides a place: its width over the line height, whether it is two separate tall
    strokes, how much ink the best cut goes through (a touching point is thin), and how
    unsure the model is of the whole and of the best cut, as log(1 - p) (p: the whole's top
    probability, or the product of the cut's two): the model is sure of nearly everything, so
    the little left to 1 is what tells them apart (6 decimals: 1e-6 is the floor)."""
    def unsure(log_p: float) -> float:
        return math.log(max(1.0 - math.exp(log_p), 1e-6))

    return [1.0, slot.width_ratio, float(slot.tall_parts > 1), cut_ink, unsure(whole_log_p),
            unsure(cut_log_p)]


def reading_log_p(predictions: list[dict[str, Any]]) -> float:
    """How sure the model is of a reading: the sum of its digits' log top probabilities."""
    return sum(math.log(max(max(p["probabilities"]), 1e-9)) for p in predictions)


def choose_reading(options: list[list[dict[str, Any]]], slot: Slot,
                   weights: tuple[float, ...] = SPLIT_WEIGHTS,
                   cut_inks: list[float] | None = None) -> list[dict[str, Any]]:
    """One place's reading: whole, or its surest cut when the split rule says two digits
    (a place too wide for one digit has no whole reading: its surest cut wins). `cut_inks`:
    per option, the ink its cut goes through (Slot.cut_ink)."""
    inks = cut_inks if cut_inks is not None else [0.0] * len(options)
    wholes = [o for o in options if len(o) == 1]
    ranked = sorted(((o, c) for o, c in zip(options, inks, strict=True) if len(o) > 1),
                    key=lambda oc: reading_log_p(oc[0]), reverse=True)
    if not ranked:
        return wholes[0]
    if not wholes:
        return ranked[0][0]
    pair, ink = next(((o, c) for o, c in ranked if len(o) == 2), ranked[0])
    x = split_features(slot, reading_log_p(wholes[0]), reading_log_p(pair), ink)
    return pair if float(np.dot(weights, x)) > 0 else wholes[0]


def number_answer(digits: list[dict[str, Any]], version: int | None) -> dict[str, Any]:
    """The contract's number answer; no digits means nothing was drawn."""
    answer: dict[str, Any] = {
        "number": "".join(str(d["digit"]) for d in digits),
        "digits": digits,
        "model_version": digits[0].get("model_version", version) if digits else version,
    }
    if not digits:
        answer["empty"] = True
    return answer


SlotsFn = Callable[[Any], list[Slot]]  # a number item -> its places; raises InvalidInput


def _guarded(fn: Callable[[Any], Any], item: Any) -> Any:
    """fn(item), or the exception it raised (reported per item, never fatal)."""
    try:
        return fn(item)
    except InvalidInput as exc:
        return exc
    except Exception as exc:  # a bug in one item's decoding must not cost the others
        log.exception("unexpected failure preparing a number")
        return InvalidInput(f"could not read this item ({type(exc).__name__})")


def _replay(prepared: Any) -> np.ndarray | None:
    if isinstance(prepared, Exception):
        raise prepared
    return prepared


def classify_mixed(items: list[Any], is_number: Callable[[Any], bool],
                   prepare_digit: Callable[[Any], np.ndarray | None], prepare_slots: SlotsFn,
                   predict: PredictFn, version: int | None, with_image: bool = False,
                   weights: tuple[float, ...] = SPLIT_WEIGHTS) -> list[dict[str, Any]]:
    """Digits and numbers in one forward pass; each item gets its answer or its own error.

    Number digits always carry `image28_b64` (the page shows each crop); single digits
    only `with_image`, as before.
    """
    flat: list[Any] = []  # what classify_items replays: digits, None (empty) or errors
    plans: list[Any] = []  # per item: an int (a digit's row), an error, or slot layouts
    for item in items:
        if not is_number(item):
            plans.append(len(flat))
            flat.append(_guarded(prepare_digit, item))
            continue
        slots = _guarded(prepare_slots, item)
        if isinstance(slots, Exception):
            plans.append(slots)
            continue
        layout = []
        for slot in slots:
            options, inks = [], []
            for reading, ink in zip(slot.readings, slot.cut_ink or [0.0] * len(slot.readings),
                                    strict=True):
                digits = [to_mnist(c) for c in reading]
                if any(d is None for d in digits):
                    continue
                options.append(list(range(len(flat), len(flat) + len(digits))))
                inks.append(ink)
                flat += digits
            if options:
                layout.append((options, slot, inks))
        plans.append(layout)
    results = classify_items(flat, _replay, predict, version, with_image=True)
    return [_answer(plan, results, version, with_image, weights) for plan in plans]


def _answer(plan: Any, results: list[dict[str, Any]], version: int | None, with_image: bool,
            weights: tuple[float, ...]) -> dict[str, Any]:
    """One item's answer from the shared forward pass."""
    if isinstance(plan, Exception):
        return {"error": str(plan)}
    if isinstance(plan, int):
        res = results[plan]
        if not with_image:
            res.pop("image28_b64", None)
        return res
    digits: list[dict[str, Any]] = []
    for options, slot, inks in plan:
        digits += choose_reading([[results[i] for i in rows] for rows in options], slot,
                                 weights, inks)
    if len(digits) > MAX_DIGITS:
        return {"error": f"too many digits: at most {MAX_DIGITS}, found {len(digits)}"}
    return number_answer(digits, version)
