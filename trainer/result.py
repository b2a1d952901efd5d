"""What a training run hands to publishing: the saved model, its scores and its story."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from trainer.data.sets import LabelledSet
from trainer.evaluate import SetScore

PRIMARY_SET = "mnist_test"


@dataclass
class TrainResult:
    """A trained, saved and scored model, ready to publish."""

    model_file: Path
    scores: dict[str, SetScore]
    history: list[dict[str, float]]
    seconds: float
    meta: dict[str, Any] = field(default_factory=dict)
    eval_sets: dict[str, LabelledSet] = field(default_factory=dict)

    @property
    def test_accuracy(self) -> float:
        """The MNIST test figure (the first set's without MNIST): the headline number."""
        if not self.scores:
            return 0.0
        return (self.scores.get(PRIMARY_SET) or next(iter(self.scores.values()))).accuracy
