"""User feedback as training data, with a stable held-out share for the promotion gate.

Which drawings are held out must not change from one retrain to the next, or a drawing a
model trained on would later count as "unseen". So the split hashes each drawing's pixels:
the same drawing always falls on the same side, whatever else is in the feedback list.
"""

from __future__ import annotations

import hashlib

import numpy as np

from trainer.data.sets import LabelledSet

HOLDOUT_EVERY = 5  # one drawing in five is held out from training
MIN_GATED = 20  # the held-out feedback counts in the gate from this many drawings on


def held_out_mask(digits: np.ndarray) -> np.ndarray:
    """True for the drawings kept out of training (about 1 in HOLDOUT_EVERY)."""
    return np.asarray([int.from_bytes(hashlib.sha1(d.tobytes()).digest()[:4], "big")
                       % HOLDOUT_EVERY == 0 for d in digits], bool)


def split_feedback(digits: np.ndarray, labels: np.ndarray) -> tuple[LabelledSet, LabelledSet]:
    """(train, held out) parts of the feedback drawings."""
    whole = LabelledSet("feedback", np.asarray(digits, np.uint8).reshape(-1, 28, 28),
                        np.asarray(labels, np.int64))
    mask = held_out_mask(whole.x)
    return whole.subset(~mask, "feedback train"), whole.subset(mask, "feedback_heldout")


def within_classes(part: LabelledSet, classes: int) -> LabelledSet:
    """The drawings a model of `classes` outputs can learn: "not a digit" feedback (class 10)
    trains an 11-class model and is left out of a 10-class one."""
    return part.subset(part.y < classes)
