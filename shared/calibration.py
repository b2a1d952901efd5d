"""Calibrated confidence and rejection ("not a digit", "ambiguous"), as pure numpy.

A model's softmax output (10 digits, or 11 with "not a digit" last) is turned into what a
prediction carries. The model's probabilities are re-scaled by a temperature T fitted on
held-out digits (softmax(log p / T) equals softmax(logits / T): the log drops the softmax's
constant), then:
- `probabilities`: the 10 digits' calibrated probabilities, renormalised to sum to 1 (the
  contract's 10 floats, whatever the model's width);
- `confidence`: the calibrated probability of the predicted digit, in the 11-way answer;
- `rejected`: "not a digit" when the calibrated P(not a digit) reaches `not_digit`, else
  "ambiguous" when `confidence` is below `ambiguous`, else None.
T and both thresholds live in the version's meta.json (`calibration`), so a hot-swapped
version brings its own. A version without them (older, 10-class) keeps T = 1 and never
rejects.

The batcher hands arrays around, so a scored row is 12 numbers: the 10 probabilities, the
confidence and a rejection code (`REJECTIONS[code]`).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

DIGITS = 10
CONFIDENCE = 10  # column of a scored row
REJECTED = 11
SCORED_WIDTH = 12
REJECTIONS: tuple[str | None, ...] = (None, "not a digit", "ambiguous")
TINY = 1e-12


@dataclass(frozen=True)
class Calibration:
    """A version's temperature and rejection thresholds."""

    temperature: float = 1.0
    not_digit: float | None = None  # reject when calibrated P(not a digit) >= this
    ambiguous: float | None = None  # reject when the digit's confidence < this

    @classmethod
    def from_meta(cls, meta: dict[str, Any]) -> Calibration:
        """The `calibration` entry of a meta.json (identity when absent)."""
        c = meta.get("calibration") or {}
        return cls(float(c.get("temperature", 1.0)), c.get("not_digit"), c.get("ambiguous"))

    def as_meta(self) -> dict[str, Any]:
        """For meta.json."""
        return asdict(self)


def calibrated(raw: np.ndarray, temperature: float) -> np.ndarray:
    """Softmax outputs (n, k) re-scaled by the temperature (float64, rows sum to 1)."""
    z = np.log(np.clip(np.asarray(raw, np.float64), TINY, 1.0)) / temperature
    z -= z.max(axis=1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=1, keepdims=True)


def score_rows(raw: np.ndarray, cal: Calibration) -> np.ndarray:
    """Scored rows (n, 12): probabilities, confidence and rejection code of each output."""
    p = calibrated(raw, cal.temperature)
    digits = p[:, :DIGITS]
    out = np.zeros((len(p), SCORED_WIDTH), np.float64)
    out[:, :DIGITS] = digits / np.maximum(digits.sum(axis=1, keepdims=True), TINY)
    confidence = digits.max(axis=1)
    out[:, CONFIDENCE] = confidence
    code = np.zeros(len(p))
    if cal.ambiguous is not None:
        code[confidence < cal.ambiguous] = REJECTIONS.index("ambiguous")
    if cal.not_digit is not None and p.shape[1] > DIGITS:
        code[p[:, DIGITS] >= cal.not_digit] = REJECTIONS.index("not a digit")
    out[:, REJECTED] = code
    return out


def rejection_name(code: float) -> str | None:
    """The contract's `rejected` value of a scored row's code."""
    return REJECTIONS[int(code)]


def nll(raw: np.ndarray, labels: np.ndarray, temperature: float) -> float:
    """Mean negative log-likelihood of the labels at a temperature."""
    p = calibrated(raw, temperature)
    return float(-np.log(np.clip(p[np.arange(len(p)), labels], TINY, 1.0)).mean())


def fit_temperature(raw: np.ndarray, labels: np.ndarray) -> float:
    """The temperature minimising the NLL of held-out labels (a log grid, then a finer one
    around the best: one parameter, so a search is exact enough and cannot diverge)."""
    labels = np.asarray(labels, np.int64)
    grid = np.exp(np.linspace(np.log(0.2), np.log(10.0), 80))
    best = float(grid[np.argmin([nll(raw, labels, t) for t in grid])])
    fine = np.linspace(best * 0.93, best * 1.07, 41)
    return float(fine[np.argmin([nll(raw, labels, t) for t in fine])])


def expected_calibration_error(confidence: np.ndarray, correct: np.ndarray,
                               bins: int = 15) -> float:
    """ECE: the |accuracy - confidence| gap per equal-width confidence bin, weighted by the
    bin's share of items (Guo et al. 2017)."""
    confidence = np.asarray(confidence, np.float64)
    correct = np.asarray(correct, np.float64)
    edges = np.linspace(0.0, 1.0, bins + 1)
    which = np.clip(np.digitize(confidence, edges[1:-1], right=True), 0, bins - 1)
    total = 0.0
    for b in range(bins):
        mask = which == b
        if mask.any():
            total += mask.mean() * abs(correct[mask].mean() - confidence[mask].mean())
    return float(total)


def choose_thresholds(raw_digits: np.ndarray, temperature: float, not_digit_budget: float,
                      ambiguous_budget: float, not_digit_floor: float = 0.5,
                      ambiguous_cap: float = 0.9) -> Calibration:
    """Thresholds that reject about `budget` of held-out real digits each: P(not a digit)
    at its (1 - budget) quantile (never below `not_digit_floor`: at least as likely not a
    digit as that), and the confidence at its `budget` quantile (never above the cap)."""
    p = calibrated(raw_digits, temperature)
    not_digit = None
    if p.shape[1] > DIGITS:
        not_digit = max(float(np.quantile(p[:, DIGITS], 1.0 - not_digit_budget)),
                        not_digit_floor)
    confidence = p[:, :DIGITS].max(axis=1)
    ambiguous = min(float(np.quantile(confidence, ambiguous_budget)), ambiguous_cap)
    return Calibration(temperature, not_digit, ambiguous)
