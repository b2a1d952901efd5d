"""shared.saliency: occlusion maps from one batched pass, and the `explain` flag."""

from __future__ import annotations

import numpy as np
import pytest

from shared.preprocess import InvalidInput
from shared.saliency import (
    explain_digit,
    explain_flag,
    explained_prediction,
    inked_origins,
    occlusion_map,
    occlusion_stack,
    patch_origins,
    split_explain,
)


def quadrant_model(stack: np.ndarray) -> np.ndarray:
    """A tiny 'model': P(digit 1) is the share of the top-left quadrant's ink still there."""
    full = 255.0 * 14 * 14
    p1 = stack[:, :14, :14].astype(np.float64).sum(axis=(1, 2)) / full
    out = np.zeros((len(stack), 10))
    out[:, 1] = p1
    out[:, 0] = 1 - p1
    return out


def test_the_stack_is_the_digit_then_one_blanked_patch_each() -> None:
    digit = np.full((28, 28), 200, np.uint8)
    origins = inked_origins(digit)
    assert origins == patch_origins() and len(origins) == 16  # a 4x4 grid of 7x7 patches
    stack = occlusion_stack(digit, origins)
    assert stack.shape == (17, 28, 28)
    assert (stack[0] == 200).all()
    assert (stack[1, :7, :7] == 0).all() and (stack[1, 7:, :] == 200).all()
    assert ((stack[1:] == 0).sum(axis=(1, 2)) == 49).all()
    covered = np.zeros((28, 28), int)  # the grid covers every pixel exactly once
    for r, c in origins:
        covered[r : r + 7, c : c + 7] += 1
    assert (covered == 1).all()


def test_only_patches_with_ink_are_sent() -> None:
    digit = np.zeros((28, 28), np.uint8)
    digit[5:10, 15:17] = 255  # rows 0-13 x cols 14-20: 2 x 1 patches of the grid
    assert inked_origins(digit) == [(0, 14), (7, 14)]


def test_saliency_lies_where_the_model_looks() -> None:
    digit = np.full((28, 28), 255, np.uint8)
    calls: list[int] = []

    def forward(stack: np.ndarray) -> np.ndarray:
        calls.append(len(stack))
        return quadrant_model(stack)

    row, heat = explain_digit(digit, forward)
    assert calls == [1 + len(patch_origins())]  # ONE forward pass for the whole map
    assert int(np.argmax(row)) == 1
    assert heat.shape == (28, 28) and heat.min() >= 0 and heat.max() == pytest.approx(1.0)
    assert heat[:12, :12].min() > 0.5  # inside the quadrant the model reads
    assert heat[16:, 16:].max() == 0.0  # far outside it nothing matters


def test_a_patch_that_helps_when_removed_counts_zero() -> None:
    probs = np.zeros((1 + len(patch_origins()), 10))
    probs[:, 3] = 0.5
    probs[1:, 3] = 0.9  # blanking anything makes the 3 more likely
    assert occlusion_map(probs, 3, patch_origins()).max() == 0.0


def test_explained_prediction_carries_a_rounded_non_negative_map() -> None:
    digit = np.zeros((28, 28), np.uint8)
    digit[2:12, 2:12] = 255
    result = explained_prediction(digit, lambda s: (quadrant_model(s), 4), version=4)
    assert result["digit"] == 1 and result["model_version"] == 4
    sal = np.asarray(result["saliency"])
    assert sal.shape == (28, 28) and (sal >= 0).all()
    assert all(len(str(v).split(".")[-1]) <= 3 for v in sal.ravel())
    empty = explained_prediction(None, lambda s: (quadrant_model(s), 4), version=4)
    assert empty["digit"] is None and np.asarray(empty["saliency"]).sum() == 0


@pytest.mark.parametrize("value", [True, False, "true", "false"])
def test_explain_flag_accepts_booleans(value: object) -> None:
    assert explain_flag(value) is (value in (True, "true"))


@pytest.mark.parametrize("value", [1, 0, "yes", None, [], {}, "True"])
def test_explain_flag_refuses_anything_else(value: object) -> None:
    with pytest.raises(InvalidInput, match="'explain' must be true or false"):
        explain_flag(value)


def test_split_explain_only_strips_a_true_flag() -> None:
    assert split_explain({"u8": "x", "explain": True}) == ({"u8": "x"}, True)
    assert split_explain({"u8": "x"}) == ({"u8": "x"}, False)
    assert split_explain({"image": "x", "explain": "yes"})[1] is False
