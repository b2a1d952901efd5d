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
# How a place's reading is chosen (choose_reading): the reading, whole or cut, with the best
# READING_WEIGHTS . reading_features, a conditional logit over all of a place's readings fitted
# by `python bench/whole_numbers.py --tune` on numbers of the MNIST *train* digits that
# training holds out, never on what bench/whole_numbers.py reports on.
# The width prior: each digit's width over the line height (mean, spread), measured on single
# MNIST train digits: a "1" is narrow, a 4 as wide as the line is not.
READING_WEIGHTS = (1.544, 0.818, 0.033, 1.909, -6.309, 0.077, 1.364, 0.173, -0.894, -0.721)
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



def reading_features(option: list[dict[str, Any]], slot: Slot, widths: list[float],
                     cut_ink: float, prior: WidthPrior = (WIDTH_MEAN, WIDTH_SPREAD)
                     ) -> list[float]:
    """What one reading of a place (whole or cut) is scored on: its cut_features; then what
    only a cut has, each 0 for the whole reading: the place's width over the line height,
    whether it is two separate tall strokes, a cut's own bias; then how unsure the model is
    of the reading, as log(1 - p) (p: the product of its digits' sureness; the model is sure
    of nearly everything, so the little left to 1 is what tells readings apart), and the log
    sureness of its least sure digit (a confident half beside a doubtful one)."""
    cut = cut_features(option, widths, cut_ink, prior)
    is_cut = float(len(option) > 1)
    least_sure = min(math.log(max(sureness(p), SURE_FLOOR)) for p in option)
    return [*cut, is_cut * slot.width_ratio, is_cut * float(slot.tall_parts > 1), is_cut,
            math.log(max(1.0 - math.exp(cut[0]), SURE_FLOOR)), least_sure]


def reading_log_p(predictions: list[dict[str, Any]]) -> float:
    """How sure the model is of a reading: the sum of its digits' log sureness."""
    return sum(math.log(max(sureness(p), SURE_FLOOR)) for p in predictions)


def typical_widths(options: list[list[dict[str, Any]]]) -> list[list[float]]:
    """Each crop as wide as typical for its digit (the width prior then says nothing)."""
    return [[WIDTH_MEAN[int(p["digit"])] for p in o] for o in options]


def choose_reading(options: list[list[dict[str, Any]]], slot: Slot,
                   cut_inks: list[float] | None = None,
                   widths: list[list[float]] | None = None,
                   weights: tuple[float, ...] | None = None) -> list[dict[str, Any]]:
    """One place's reading, whole or cut: the best READING_WEIGHTS . reading_features.
    `cut_inks`: per option, the ink its cuts go through (Slot.cut_ink); `widths`: per option,
    each crop's width over the line height."""
    w = weights or READING_WEIGHTS
    inks = cut_inks if cut_inks is not None else [0.0] * len(options)
    widths = widths if widths is not None else typical_widths(options)
    scores = [float(np.dot(w, reading_features(o, slot, wd, ink)))
              for o, wd, ink in zip(options, widths, inks, strict=True)]
    return options[int(np.argmax(scores))]


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
                   weights: tuple[float, ...] | None = None
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
            weights: tuple[float, ...] | None) -> dict[str, Any]:
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
