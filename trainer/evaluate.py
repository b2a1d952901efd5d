"""Score a model on every evaluation set: accuracy, per-class accuracy, confusion, misses.

Models are scored through `shared.classifier.Classifier`, the exact path serving takes.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from trainer.data.sets import LabelledSet

EVAL_BATCH = 500


@dataclass
class SetScore:
    """How a model did on one set."""

    name: str
    accuracy: float
    n: int
    confusion: np.ndarray  # 10x10, rows true, columns predicted
    predicted: np.ndarray

    def per_class(self) -> list[float | None]:
        """Recall of each digit (None for a digit absent from the set)."""
        totals = self.confusion.sum(axis=1)
        return [round(float(self.confusion[d, d] / t), 5) if t else None
                for d, t in enumerate(totals)]

    def as_meta(self) -> dict[str, Any]:
        """The figures meta.json records."""
        return {"accuracy": round(self.accuracy, 6), "n": self.n,
                "errors": int(self.n - np.trace(self.confusion)),
                "per_class": self.per_class()}


def confusion_matrix(labels: np.ndarray, predicted: np.ndarray) -> np.ndarray:
    """10x10 counts, rows the true digit and columns the predicted one."""
    flat = np.asarray(labels, np.int64) * 10 + np.asarray(predicted, np.int64)
    return np.bincount(flat, minlength=100).reshape(10, 10)


def predict_labels(classifier: Any, digits: np.ndarray) -> np.ndarray:
    """Predicted digits, in serving-sized batches."""
    parts = [classifier.predict(digits[i : i + EVAL_BATCH]).argmax(axis=1)
             for i in range(0, len(digits), EVAL_BATCH)]
    return np.concatenate(parts) if parts else np.zeros(0, np.int64)


def score_set(classifier: Any, data: LabelledSet) -> SetScore:
    """Accuracy and confusion of a classifier on one set."""
    predicted = predict_labels(classifier, data.x)
    accuracy = float((predicted == data.y).mean()) if len(data) else 0.0
    return SetScore(data.name, accuracy, len(data), confusion_matrix(data.y, predicted),
                    predicted)


def score_all(classifier: Any, sets: dict[str, LabelledSet]) -> dict[str, SetScore]:
    """Every non-empty set's score, keyed like `sets`."""
    return {name: score_set(classifier, s) for name, s in sets.items() if len(s)}


def saved_classifier(model_dir: Path, version: int | None = None) -> Any:
    """A model saved in a work folder (not yet in the store), loaded as serving loads it."""
    from shared.classifier import Classifier

    return Classifier(model_dir, version=version)


def sample_misses(data: LabelledSet, score: SetScore, n: int, seed: int = 0
                  ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Up to n random misses: (digits, true labels, predicted labels)."""
    wrong = np.flatnonzero(score.predicted != data.y)
    pick = np.sort(np.random.default_rng(seed).choice(wrong, min(n, wrong.size),
                                                      replace=False))
    return data.x[pick], data.y[pick], score.predicted[pick]
