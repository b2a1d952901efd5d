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
# How a place's reading is chosen (choose_reading), in two steps fitted by
# `python bench/whole_numbers.py --tune` on numbers composed from MNIST *train* digits, never on
# what bench/whole_numbers.py reports on:
# 1. the best cut: the cut reading with the best CUT_WEIGHTS . cut_features (a conditional
#    logit over each place's cut readings);
# 2. whole or that cut: a logistic regression, SPLIT_WEIGHTS . split_features > 0 cuts.
# The width prior: each digit's width over the line height (mean, spread), measured on single
# MNIST train digits: a "1" is narrow, a 4 as wide as the line is not.
CUT_WEIGHTS = (2.402, 0.864, 0.137, 2.286, -6.896)
SPLIT_WEIGHTS = (-2.485, -0.745, 1.214, 2.636, 0.807, -0.597, -0.935, 0.213, -0.015, -2.485, -1.417,
                 1.513)
WIDTH_MEAN = (0.904, 0.464, 0.902, 0.816, 0.805, 0.894, 0.75, 0.786, 0.79, 0.714)
WIDTH_SPREAD = (0.123, 0.205, 0.135, 0.152, 0.15, 0.142, 0.14, 0.151, 0.149, 0.138)
SURE_FLOOR = 1e-6  # the least probability a digit's sureness counts for (log(1e-6) = -13.8)


def number_slots(ink: np.ndarray, strokes: list[Box] | None = None
                 ) -> list[Slot]:
    """The places of a number, refusing more than MAX_DIGITS."""
    slots = segment_number(ink, strokes)
    if len(slots) > MAX_DIGITS:
        raise InvalidInput(f"too many digits: at most {MAX_DIGITS}, found {len(slots)}")
    return slots


def sureness(prediction: dict[str, Any]) -> float:
    """How sure the model is this crop is its digit: the calibrated probability among all
    classes, "not a digit" included (`confidence`), so half a digit or two digits squeezed
    into one crop count as unsure; a 10-class model's answer has only its top probability."""
    p = prediction.get("confidence")
    return float(p if p is not None else max(prediction["probabilities"]))


WidthPrior = tuple[tuple[float, ...], tuple[float, ...]]  # per digit: mean, spread


def cut_features(predictions: list[dict[str, Any]], widths: list[float], cut_ink: float,
                 prior: WidthPrior = (WIDTH_MEAN, WIDTH_SPREAD)) -> list[float]:
    """What a reading is scored on: the sum of its digits' log sureness; the width prior,
    minus half the sum of squared z-scores of each crop's width over the line height given its
    digit, apart for crops too wide (a 4 read from a "41") and too narrow (half a 0); the ink
    its cuts go through; and how many digits it adds (the count beyond one)."""
    wide = narrow = 0.0
    for p, w in zip(predictions, widths, strict=True):
        d = int(p["digit"])
        z = (w - prior[0][d]) / prior[1][d]
        wide -= 0.5 * max(z, 0.0) ** 2
        narrow -= 0.5 * min(z, 0.0) ** 2
    return [reading_log_p(predictions), wide, narrow, cut_ink, float(len(predictions) - 1)]


def split_features(slot: Slot, whole: list[float], cut: list[float]) -> list[float]:
    """Whole or cut (whole, cut: their cut_features): the place's width over the line height,
    whether it is two separate tall strokes, the cut's ink, how unsure the model is of each,
    as log(1 - p) (p: the product of its digits' sureness; the model is sure of nearly
    everything, so the little left to 1 is what tells them apart), the width priors, the
    cut's digit count, and how sure the model is of each, as log p (a whole at p = 0.3)."""
    def unsure(log_p: float) -> float:
        return math.log(max(1.0 - math.exp(log_p), SURE_FLOOR))

    return [1.0, slot.width_ratio, float(slot.tall_parts > 1), cut[3], unsure(whole[0]),
            unsure(cut[0]), whole[1], cut[1], cut[2], cut[4], whole[0], cut[0]]


def reading_log_p(predictions: list[dict[str, Any]]) -> float:
    """How sure the model is of a reading: the sum of its digits' log sureness."""
    return sum(math.log(max(sureness(p), SURE_FLOOR)) for p in predictions)


def typical_widths(options: list[list[dict[str, Any]]]) -> list[list[float]]:
    """Each crop as wide as typical for its digit (the width prior then says nothing)."""
    return [[WIDTH_MEAN[int(p["digit"])] for p in o] for o in options]


def choose_reading(options: list[list[dict[str, Any]]], slot: Slot,
                   cut_inks: list[float] | None = None,
                   widths: list[list[float]] | None = None,
                   weights: tuple[tuple[float, ...], tuple[float, ...]] | None = None
                   ) -> list[dict[str, Any]]:
    """One place's reading: its best cut (CUT_WEIGHTS), then whole or that cut (SPLIT_WEIGHTS;
    a place with no whole reading takes its best cut). `cut_inks`: per option, the ink its cuts
    go through (Slot.cut_ink); `widths`: per option, each crop's width over the line height."""
    cut_w, split_w = weights or (CUT_WEIGHTS, SPLIT_WEIGHTS)
    inks = cut_inks if cut_inks is not None else [0.0] * len(options)
    widths = widths if widths is not None else typical_widths(options)
    feats = [cut_features(o, w, c) for o, w, c in zip(options, widths, inks, strict=True)]
    wholes = [k for k, o in enumerate(options) if len(o) == 1]
    cuts = [k for k, o in enumerate(options) if len(o) > 1]
    if not cuts:
        return options[wholes[0]]
    best = max(cuts, key=lambda k: float(np.dot(cut_w, feats[k])))
    if not wholes:
        return options[best]
    x = split_features(slot, feats[wholes[0]], feats[best])
    return options[best] if float(np.dot(split_w, x)) > 0 else options[wholes[0]]


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
                   weights: tuple[tuple[float, ...], tuple[float, ...]] | None = None
                   ) -> list[dict[str, Any]]:
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
            options, inks, widths = [], [], []
            rows: dict[int, int | None] = {}  # id(crop) -> its row: readings share crops
            for reading, ink in zip(slot.readings, slot.cut_ink or [0.0] * len(slot.readings),
                                    strict=True):
                for c in reading:
                    if id(c) not in rows:
                        digit = to_mnist(c)
                        rows[id(c)] = None if digit is None else len(flat)
                        if digit is not None:
                            flat.append(digit)
                at = [rows[id(c)] for c in reading]
                if any(r is None for r in at):
                    continue
                options.append(at)
                inks.append(ink)
                widths.append([c.shape[1] / max(slot.line, 1.0) for c in reading])
            if options:
                layout.append((options, slot, inks, widths))
        plans.append(layout)
    results = classify_items(flat, _replay, predict, version, with_image=True)
    return [_answer(plan, results, version, with_image, weights) for plan in plans]


def _answer(plan: Any, results: list[dict[str, Any]], version: int | None, with_image: bool,
            weights: tuple[tuple[float, ...], tuple[float, ...]] | None) -> dict[str, Any]:
    """One item's answer from the shared forward pass."""
    if isinstance(plan, Exception):
        return {"error": str(plan)}
    if isinstance(plan, int):
        res = results[plan]
        if not with_image:
            res.pop("image28_b64", None)
        return res
    digits: list[dict[str, Any]] = []
    for options, slot, inks, widths in plan:
        digits += choose_reading([[results[i] for i in rows] for rows in options], slot,
                                 inks, widths, weights)
    if len(digits) > MAX_DIGITS:
        return {"error": f"too many digits: at most {MAX_DIGITS}, found {len(digits)}"}
    return number_answer(digits, version)
