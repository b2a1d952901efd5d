"""Fit a version's calibration on held-out data, and measure rejection and calibration.

The temperature is fitted on MNIST train digits that were never trained on
(`mnist_heldout`); the thresholds are set so that about the recipe's budget of those digits is
rejected. The generated `negatives_calibration` set (the training generator, another seed)
is only reported here; `negatives_eval` (other fonts, other seed, MNIST *test* cut-offs) is
the separate evaluation set. Test sets never choose anything.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from shared.calibration import (
    CONFIDENCE,
    DIGITS,
    REJECTED,
    REJECTIONS,
    Calibration,
    calibrated,
    choose_thresholds,
    expected_calibration_error,
    fit_temperature,
    score_rows,
)
from trainer.data.sets import LabelledSet

EVAL_BATCH = 500


def raw_outputs(classifier: Any, x: np.ndarray) -> np.ndarray:
    """The model's uncalibrated softmax for many digits, in serving-sized batches."""
    parts = [classifier.raw(x[i : i + EVAL_BATCH]) for i in range(0, len(x), EVAL_BATCH)]
    return np.concatenate(parts) if parts else np.zeros((0, classifier.classes), np.float32)


def fit_calibration(classifier: Any, heldout: LabelledSet, not_digit_budget: float,
                    ambiguous_budget: float, not_digit_floor: float = 0.0) -> Calibration:
    """Temperature by NLL on the held-out digits, then the thresholds from their budgets."""
    raw = raw_outputs(classifier, heldout.x)
    temperature = fit_temperature(raw, heldout.y)
    return choose_thresholds(raw, temperature, not_digit_budget, ambiguous_budget,
                             not_digit_floor)


def rejection_shares(scored: np.ndarray) -> dict[str, float]:
    """Share of items rejected, in all and by reason."""
    codes = scored[:, REJECTED].astype(int)
    out = {"rejected": float((codes > 0).mean()) if len(codes) else 0.0}
    for code, name in enumerate(REJECTIONS):
        if name is not None:
            out[name] = float((codes == code).mean()) if len(codes) else 0.0
    return out


def calibration_figures(classifier: Any, cal: Calibration, digits: LabelledSet,
                        negatives: LabelledSet | None) -> dict[str, Any]:
    """On a digit set: ECE before/after the temperature, accuracy, rejection shares (and
    the accuracy of what is not rejected); on a non-digit set: rejection shares."""
    raw = raw_outputs(classifier, digits.x)
    before = calibrated(raw, 1.0)[:, :DIGITS]
    scored = score_rows(raw, cal)
    predicted = scored[:, :DIGITS].argmax(axis=1)
    correct = predicted == digits.y
    kept = scored[:, REJECTED] == 0
    out: dict[str, Any] = {
        "n": len(digits),
        "accuracy": float(correct.mean()),
        "ece_before": expected_calibration_error(before.max(axis=1),
                                                 before.argmax(axis=1) == digits.y),
        "ece_after": expected_calibration_error(scored[:, CONFIDENCE], correct),
        "digits_rejected": rejection_shares(scored),
        "accuracy_of_accepted": float(correct[kept].mean()) if kept.any() else 0.0,
    }
    if negatives is not None and len(negatives):
        out["negatives_n"] = len(negatives)
        out["negatives_rejected"] = rejection_shares(score_rows(
            raw_outputs(classifier, negatives.x), cal))
    return out


def rounded(figures: dict[str, Any], digits: int = 5) -> dict[str, Any]:
    """Figures for JSON: floats rounded, nested dicts too."""
    return {k: rounded(v, digits) if isinstance(v, dict)
            else round(v, digits) if isinstance(v, float) else v for k, v in figures.items()}
