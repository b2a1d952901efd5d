"""Fitting shared.number's reading choice on composed numbers whose truth is known.

Used by `python bench/whole_numbers.py --tune` on the MNIST *train* digits that training holds
out. Two fits: the width prior (each digit's width over the line height, from places that are
one digit), then READING_WEIGHTS (a conditional logit over all of a place's readings, whole and
cut: which one is right).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
from scipy.optimize import minimize

from shared.number import WidthPrior, number_slots, reading_features
from shared.prediction import prediction_dict
from shared.preprocess import to_mnist

Case = tuple[np.ndarray, Sequence[float], str]  # ink, each digit's centre column, the digits
Place = tuple[Any, str, list[list[dict[str, Any]]], list[list[float]], list[float]]


def read_places(cases: Sequence[Case], score: Callable[[np.ndarray], np.ndarray],
                version: int | None) -> list[Place]:
    """Every place of every case: (slot, its true digits (from the centres inside it), each
    reading's predictions, each reading's crop widths over the line, each reading's cut ink)."""
    places: list[Place] = []
    for ink, centres, truth in cases:
        for slot in number_slots(ink):
            inside = "".join(truth[i] for i, c in enumerate(centres)
                             if slot.columns[0] <= c < slot.columns[1])
            rows: dict[int, int] = {}
            digits: list[np.ndarray] = []
            kept = []
            for reading, ink_cut in zip(slot.readings, slot.cut_ink, strict=True):
                made = [to_mnist(c) for c in reading]
                if any(d is None for d in made):
                    continue
                for c, d in zip(reading, made, strict=True):
                    if id(c) not in rows:
                        rows[id(c)] = len(digits)
                        digits.append(d)  # type: ignore[arg-type]
                kept.append((reading, ink_cut))
            if not digits:
                continue
            preds = [prediction_dict(r, version) for r in score(np.stack(digits))]
            options = [[preds[rows[id(c)]] for c in r] for r, _ in kept]
            widths = [[c.shape[1] / max(slot.line, 1.0) for c in r] for r, _ in kept]
            places.append((slot, inside, options, widths, [c for _, c in kept]))
    return places


def text(option: list[dict[str, Any]]) -> str:
    return "".join(str(p["digit"]) for p in option)


def width_prior(places: list[Place]) -> WidthPrior:
    """Per digit: mean and spread of its width over the line height, from one-digit places
    read whole."""
    seen: dict[int, list[float]] = {d: [] for d in range(10)}
    for _, truth, options, widths, _ in places:
        if len(truth) == 1 and len(options[0]) == 1:
            seen[int(truth)].append(widths[0][0])
    return (tuple(round(float(np.mean(seen[d])), 3) for d in range(10)),
            tuple(round(float(np.std(seen[d])), 3) for d in range(10)))


def fit_conditional_logit(groups: list[tuple[np.ndarray, list[int]]], l2: float = 0.01
                          ) -> np.ndarray:
    """Weights making the right rows of each group the likeliest (softmax over the group)."""
    def loss(w: np.ndarray) -> float:
        total = 0.0
        for f, right in groups:
            z = f @ w
            total -= np.logaddexp.reduce(z[right]) - np.logaddexp.reduce(z)
        return total + l2 * float(w @ w)

    start = np.zeros(groups[0][0].shape[1])
    start[0] = 1.0
    return minimize(loss, start, method="L-BFGS-B").x


L2 = 0.1  # chosen on a second set of held-out numbers (0.01, 0.1 and 1.0 tried; 0.1 and 1.0 tie)


def tune_reading(cases: Sequence[Case], score: Callable[[np.ndarray], np.ndarray],
                 version: int | None) -> tuple[WidthPrior, np.ndarray]:
    """Fit and print the width prior and READING_WEIGHTS."""
    places = read_places(cases, score, version)
    prior = width_prior(places)
    groups = []
    for slot, truth, options, widths, inks in places:
        right = [k for k, o in enumerate(options) if text(o) == truth]
        if len(options) > 1 and right:
            groups.append((np.array([reading_features(o, slot, w, c, prior)
                                     for o, w, c in zip(options, widths, inks, strict=True)]),
                           right))
    weights = fit_conditional_logit(groups, L2)
    chosen_right = sum(int(np.argmax(f @ weights)) in right for f, right in groups)
    print(f"fitted on {len(places)} places of {len(cases)} numbers ({len(groups)} with several "
          "readings, the right one among them)")
    print(f"WIDTH_MEAN = {prior[0]}\nWIDTH_SPREAD = {prior[1]}")
    print(f"READING_WEIGHTS = ({', '.join(f'{v:.3f}' for v in weights)})")
    print(f"the right reading chosen on those fitting places: {chosen_right / len(groups):.2%}")
    return prior, weights
