"""Where two model versions disagree on the same drawings (the admin's shadow review).

TensorFlow-free: it takes the scored rows of both versions (`shared.calibration`) and returns
the contract's JSON, so it is tested with plain arrays.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from shared.feedback import label_name
from shared.prediction import image28_b64, prediction_dict

MAX_DRAWINGS = 1000  # the most feedback drawings one review runs through both versions


def verdict(prediction: dict[str, Any]) -> int | str | None:
    """What the page shows for a prediction: "not a digit" when rejected so, else the digit
    (an "ambiguous" answer still shows its digit, marked "not sure")."""
    return "not a digit" if prediction.get("rejected") == "not a digit" else prediction["digit"]


def brief(prediction: dict[str, Any]) -> dict[str, Any]:
    """The fields of a prediction a review row needs (no probability list)."""
    return {k: prediction[k] for k in ("digit", "confidence", "rejected", "model_version")
            if k in prediction}


def disagreements(digits: np.ndarray, labels: list[int], active_rows: np.ndarray,
                  active_version: int | None, shadow_rows: np.ndarray,
                  shadow_version: int | None) -> dict[str, Any]:
    """Every drawing on which the two versions' verdicts differ, newest first, with its label
    and the 28x28 image both saw."""
    items = []
    for i, (digit, label) in enumerate(zip(digits, labels, strict=True)):
        active = prediction_dict(active_rows[i], active_version)
        shadow = prediction_dict(shadow_rows[i], shadow_version)
        if verdict(active) != verdict(shadow):
            items.append({"index": i, "label": label_name(int(label)), "active": brief(active),
                          "shadow": brief(shadow), "image28_b64": image28_b64(digit)})
    return {"version": shadow_version, "active_version": active_version,
            "compared": len(labels), "disagree": len(items), "items": items}
