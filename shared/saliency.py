"""What the model looked at: occlusion saliency, computed in one batched forward pass.

The digit is copied once per 7x7 patch (a 4x4 grid) with that patch blanked (ink set to the
background, 0), and the copies go through the model together with the original, as one batch
of 1 + k rows: one forward pass, so no gradient and no second graph. Blanking a patch with no
ink changes nothing (its saliency is 0 by definition), so only patches that hold ink are sent:
k is about 9 for a digit, at most 16. A pixel's saliency is how much the predicted digit's
probability falls when its patch is blanked (drops only: a patch whose removal makes the
digit *more* likely counts 0), scaled so the largest is 1.

Why this grid: issue 12 allows an explained live frame 2x the latency of a plain one. A
first version sent all 169 patches of a stride-2 grid: `bench/explain.py` measured 14x on the
loaded 2-core machine (and other clients' frames 17x slower beside it). A 7x7 grid of 4x4
patches (about 18 rows) measured 2.35x, 2.21x and 2.28x at p50 once plain frames had become
~10 ms (stop 22); this 4x4 grid of 7x7 patches, 1.83x, at the cost of a coarser map: 7-pixel
blocks, about a stroke's length, enough to show which part of the digit decided it.

Pure numpy, TensorFlow-free: the worker hands the stack to its micro-batcher, tests hand it
to any function.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

SIDE = 28
PATCH = 7  # 28 = 4 x 7: the grid covers the image exactly
STRIDE = 7
DECIMALS = 3


def patch_origins(patch: int = PATCH, stride: int = STRIDE) -> list[tuple[int, int]]:
    """Top-left corners of the occluding patches, covering the whole 28x28 image."""
    starts = list(range(0, SIDE - patch + 1, stride))
    return [(r, c) for r in starts for c in starts]


def inked_origins(digit: np.ndarray, patch: int = PATCH, stride: int = STRIDE
                  ) -> list[tuple[int, int]]:
    """The patches that hold ink: blanking any other one would change nothing."""
    return [(r, c) for r, c in patch_origins(patch, stride)
            if digit[r : r + patch, c : c + patch].any()]


def occlusion_stack(digit: np.ndarray, origins: list[tuple[int, int]], patch: int = PATCH
                    ) -> np.ndarray:
    """(1 + k, 28, 28) uint8: the digit, then one copy per patch origin with it blanked."""
    stack = np.repeat(np.asarray(digit, np.uint8)[None], 1 + len(origins), axis=0)
    for i, (r, c) in enumerate(origins, start=1):
        stack[i, r : r + patch, c : c + patch] = 0
    return stack


def occlusion_map(probs: np.ndarray, target: int, origins: list[tuple[int, int]],
                  patch: int = PATCH) -> np.ndarray:
    """28x28 non-negative saliency from the stack's probabilities (row 0: the original);
    a pixel gets the mean drop over the patches covering it, 0 when none was sent."""
    drops = np.maximum(probs[0, target] - probs[1:, target], 0.0)
    total = np.zeros((SIDE, SIDE), np.float64)
    count = np.zeros((SIDE, SIDE), np.float64)
    for drop, (r, c) in zip(drops, origins, strict=True):
        total[r : r + patch, c : c + patch] += drop
        count[r : r + patch, c : c + patch] += 1.0
    heat = total / np.maximum(count, 1.0)
    peak = float(heat.max())
    return heat / peak if peak > 0 else heat


def saliency_list(heat: np.ndarray) -> list[list[float]]:
    """The JSON form: 28 rows of 28 floats, rounded."""
    return np.round(heat, DECIMALS).tolist()


def explain_digit(digit: np.ndarray, forward: Callable[[np.ndarray], np.ndarray]
                  ) -> tuple[np.ndarray, np.ndarray]:
    """(the original's probabilities row, saliency 28x28) from ONE call of `forward` on the
    whole occlusion stack; the target is the original's predicted digit."""
    origins = inked_origins(digit)
    probs = np.asarray(forward(occlusion_stack(digit, origins)))
    target = int(np.argmax(probs[0, :10]))
    return probs[0], occlusion_map(probs, target, origins)


EXPLAIN_FIELD = "explain"


def with_explain(wire: dict, fields: dict) -> dict:
    """The wire item, marked for saliency when the request asked `"explain": true` (one
    digit only: a number's places are cut by the worker, so there is no one map to give)."""
    if not explain_flag(fields.get(EXPLAIN_FIELD, False)):
        return wire
    from shared.number_wire import is_number_item
    from shared.preprocess import InvalidInput

    if is_number_item(wire):
        raise InvalidInput("'explain' is for one digit; it is not available in number mode")
    return {**wire, EXPLAIN_FIELD: True}


def explain_flag(value: object) -> bool:
    """An API's `explain` value: a JSON boolean (multipart forms send "true"/"false")."""
    if isinstance(value, bool):
        return value
    if value in ("true", "false"):
        return value == "true"
    from shared.preprocess import InvalidInput

    raise InvalidInput("'explain' must be true or false")


def split_explain(item: object) -> tuple[object, bool]:
    """A queued item and whether it asks for saliency (the web adds `explain: true` to the
    wire item; nothing else ever carries it)."""
    if isinstance(item, dict) and item.get(EXPLAIN_FIELD) is True:
        return {k: v for k, v in item.items() if k != EXPLAIN_FIELD}, True
    return item, False


def explained_prediction(digit: np.ndarray | None,
                         predict: Callable[[np.ndarray], tuple[np.ndarray, int | None]],
                         version: int | None) -> dict:
    """A prediction with `saliency`, from one `predict` call on the occlusion stack (an empty
    drawing answers empty, with an all-zero map)."""
    from shared.prediction import prediction_dict

    if digit is None:
        return {**prediction_dict(None, version),
                "saliency": saliency_list(np.zeros((SIDE, SIDE)))}
    used: list[int | None] = [version]

    def forward(stack: np.ndarray) -> np.ndarray:
        rows, used[0] = predict(stack)
        return rows

    row, heat = explain_digit(digit, forward)
    return {**prediction_dict(row, used[0]), "saliency": saliency_list(heat)}
