"""shared.calibration: temperature, expected calibration error, and the rejection codes."""

from __future__ import annotations

import numpy as np
import pytest

from shared.calibration import (
    CONFIDENCE,
    REJECTED,
    Calibration,
    calibrated,
    choose_thresholds,
    expected_calibration_error,
    fit_temperature,
    rejection_name,
    score_rows,
)


def softmax(z: np.ndarray) -> np.ndarray:
    e = np.exp(z - z.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def test_temperature_one_changes_nothing() -> None:
    raw = softmax(np.random.default_rng(0).normal(size=(20, 11)))
    assert np.allclose(calibrated(raw, 1.0), raw, atol=1e-9)


def test_a_fitted_temperature_undoes_overconfidence() -> None:
    # labels drawn from softmax(z); the model reports softmax(3 z): 3x overconfident
    rng = np.random.default_rng(1)
    z = rng.normal(0, 2, size=(4000, 10))
    labels = np.array([rng.choice(10, p=p) for p in softmax(z)])
    t = fit_temperature(softmax(3 * z), labels)
    assert t == pytest.approx(3.0, rel=0.1)


def test_ece_of_a_hand_example() -> None:
    # two bins: 0.9 confident, 3 of 4 right (gap 0.15); 0.6 confident, 1 of 2 right (0.1)
    confidence = np.array([0.9, 0.9, 0.9, 0.9, 0.6, 0.6])
    correct = np.array([1, 1, 1, 0, 1, 0])
    assert expected_calibration_error(confidence, correct) == pytest.approx(
        4 / 6 * 0.15 + 2 / 6 * 0.1)


def test_perfect_calibration_has_no_error() -> None:
    assert expected_calibration_error(np.ones(5), np.ones(5)) == 0.0


def test_scored_rows_reject_non_digits_and_unsure_digits() -> None:
    raw = np.array([
        [0.97] + [0.0] * 9 + [0.03],       # a sure 0
        [0.0] * 10 + [1.0],                # not a digit
        [0.45, 0.45] + [0.0] * 8 + [0.1],  # a 0 or a 1
    ])
    rows = score_rows(raw, Calibration(1.0, not_digit=0.5, ambiguous=0.6))
    assert [rejection_name(c) for c in rows[:, REJECTED]] == [None, "not a digit", "ambiguous"]
    assert rows[0, CONFIDENCE] == pytest.approx(0.97, abs=1e-6)
    assert np.allclose(rows[:, :10].sum(axis=1), 1.0)  # the contract's ten probabilities


def test_a_ten_class_model_without_calibration_never_rejects() -> None:
    raw = softmax(np.random.default_rng(2).normal(size=(50, 10)))
    rows = score_rows(raw, Calibration.from_meta({}))
    assert (rows[:, REJECTED] == 0).all()
    assert np.allclose(rows[:, :10], raw)


def test_thresholds_reject_about_their_budget_of_held_out_digits() -> None:
    rng = np.random.default_rng(3)
    z = rng.normal(0, 1, size=(2000, 11))
    z[np.arange(2000), rng.integers(0, 10, 2000)] += 6.0  # confident digits, some less so
    raw = softmax(z)
    cal = choose_thresholds(raw, 1.0, not_digit_budget=0.01, ambiguous_budget=0.02,
                            not_digit_floor=0.0)
    rows = score_rows(raw, cal)
    assert (rows[:, REJECTED] == 1).mean() == pytest.approx(0.01, abs=0.005)
    assert (rows[:, REJECTED] > 0).mean() <= 0.03 + 1e-9


def test_meta_round_trip() -> None:
    cal = Calibration(1.3, 0.6, 0.4)
    assert Calibration.from_meta({"calibration": {**cal.as_meta(), "other": 1}}) == cal
