"""Where two versions disagree: verdicts compared on scored rows (plain arrays)."""

from __future__ import annotations

import base64

import numpy as np

from shared.calibration import CONFIDENCE, REJECTED, SCORED_WIDTH
from shared.shadow_compare import disagreements, verdict


def row(digit: int, rejected: int = 0) -> np.ndarray:
    """A scored row that says `digit` (rejection code: 0 none, 1 not a digit, 2 ambiguous)."""
    r = np.zeros(SCORED_WIDTH)
    r[digit] = 0.9
    r[(digit + 1) % 10] = 0.1
    r[CONFIDENCE] = 0.9
    r[REJECTED] = rejected
    return r


def test_verdict_is_the_digit_unless_rejected_as_not_a_digit() -> None:
    assert verdict({"digit": 4, "rejected": None}) == 4
    assert verdict({"digit": 4, "rejected": "ambiguous"}) == 4
    assert verdict({"digit": 4, "rejected": "not a digit"}) == "not a digit"


def test_only_differing_drawings_are_listed_with_label_answers_and_image() -> None:
    digits = np.zeros((4, 28, 28), np.uint8)
    digits[2, 5, 5] = 255
    labels = [3, 7, 1, 10]
    active = np.stack([row(3), row(7), row(1), row(2)])
    shadow = np.stack([row(3), row(7, rejected=2), row(8), row(2, rejected=1)])
    out = disagreements(digits, labels, active, 1, shadow, 2)
    assert (out["version"], out["active_version"], out["compared"], out["disagree"]) == (
        2, 1, 4, 2)
    first, second = out["items"]
    assert first["index"] == 2 and first["label"] == 1
    assert first["active"]["digit"] == 1 and first["shadow"]["digit"] == 8
    assert first["active"]["model_version"] == 1 and first["shadow"]["model_version"] == 2
    assert np.frombuffer(base64.b64decode(first["image28_b64"]), np.uint8)[5 * 28 + 5] == 255
    assert second["label"] == "not a digit" and second["shadow"]["rejected"] == "not a digit"
    assert "probabilities" not in first["active"]


def test_nothing_to_compare_is_an_empty_review() -> None:
    empty = np.zeros((0, SCORED_WIDTH))
    out = disagreements(np.zeros((0, 28, 28), np.uint8), [], empty, 1, empty, 2)
    assert out["compared"] == 0 and out["items"] == []
