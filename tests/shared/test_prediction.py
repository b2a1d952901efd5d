"""shared.prediction.classify_items: one forward pass, empty and bad items in their slots."""

from __future__ import annotations

import base64
from typing import Any

import numpy as np

from shared.prediction import classify_items, prediction_dict
from shared.preprocess import InvalidInput


def prepare(item: Any) -> np.ndarray | None:
    """Items are ints here: negative is bad, 0 is empty, n > 0 is a digit filled with n."""
    if item < 0:
        raise InvalidInput(f"bad item {item}")
    return None if item == 0 else np.full((28, 28), item, np.uint8)


class OnePass:
    """A forward pass that records its calls; the class is the pixel value modulo 10."""

    def __init__(self) -> None:
        self.calls: list[int] = []

    def __call__(self, digits: np.ndarray) -> tuple[np.ndarray, int]:
        self.calls.append(len(digits))
        probs = np.zeros((len(digits), 10), np.float32)
        probs[np.arange(len(digits)), digits[:, 0, 0] % 10] = 1.0
        return probs, 7


def test_every_slot_is_filled_in_order_with_one_forward_pass() -> None:
    forward = OnePass()
    results = classify_items([3, 0, -1, 12], prepare, forward, version=6)
    assert forward.calls == [2]
    assert [r.get("digit") for r in results] == [3, None, None, 2]
    assert results[1] == prediction_dict(None, 6)
    assert results[2] == {"error": "bad item -1"}
    assert results[0]["model_version"] == 7


def test_no_forward_pass_when_nothing_needs_the_model() -> None:
    forward = OnePass()
    assert classify_items([0, -2], prepare, forward, version=1)[0]["empty"] is True
    assert forward.calls == []


def test_an_unexpected_decoder_failure_costs_only_its_item() -> None:
    def flaky(item: Any) -> np.ndarray | None:
        if item == 5:
            raise ZeroDivisionError
        return prepare(item)

    results = classify_items([5, 4], flaky, OnePass(), version=1)
    assert "ZeroDivisionError" in results[0]["error"] and results[1]["digit"] == 4


def test_with_image_adds_what_the_model_saw() -> None:
    results = classify_items([2, 0], prepare, OnePass(), version=1, with_image=True)
    seen = [np.frombuffer(base64.b64decode(r["image28_b64"]), np.uint8) for r in results]
    assert np.array_equal(seen[0], np.full(784, 2))
    assert np.array_equal(seen[1], np.zeros(784))


def test_a_scored_row_adds_confidence_and_rejection() -> None:
    from shared.calibration import SCORED_WIDTH

    row = np.zeros(SCORED_WIDTH)
    row[7], row[2], row[10], row[11] = 0.6, 0.4, 0.55, 2  # 'ambiguous'
    out = prediction_dict(row, 3)
    assert out["digit"] == 7 and len(out["probabilities"]) == 10
    assert out["confidence"] == 0.55 and out["rejected"] == "ambiguous"
    plain = prediction_dict(row[:10], 3)
    assert "confidence" not in plain and "rejected" not in plain
