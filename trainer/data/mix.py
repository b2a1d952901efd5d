"""What one run trains on: every enabled source, mixed afresh each epoch.

Phase 1 epochs hold all of MNIST train; phase 2 epochs hold all of USPS train,
`pen_per_epoch` of the random drawings of every pen digit (new ones each epoch) and a
replayed sample of MNIST. Both add the feedback, repeated. Evaluation sets are the test
files and the plain drawings of the pen digits.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from trainer.data.sets import LabelledSet, PenData, mnist_sets, pendigits_data, usps_sets
from trainer.data.sources import DataPaths
from trainer.data.strokes import RenderConfig


@dataclass
class TrainingData:
    """Every enabled source's training part and evaluation sets."""

    train: list[LabelledSet]
    pen: PenData | None
    evaluation: dict[str, LabelledSet] = field(default_factory=dict)

    def sizes(self) -> dict[str, int]:
        """Items per source, for meta.json."""
        out = {s.name: len(s) for s in self.train}
        if self.pen is not None:
            out["pendigits digits"] = len(self.pen.plain)
        return out


def load_training_data(paths: DataPaths, cache_dir: Path | None, pen_renders: int,
                       render_cfg: RenderConfig, limit: int | None = None) -> TrainingData:
    """Load (and cache) each enabled source."""
    data = TrainingData([], None)
    if paths.use_mnist:
        train, test = mnist_sets(paths.mnist, cache_dir, limit)
        data.train.append(train)
        data.evaluation["mnist_test"] = test
    if paths.usps is not None:
        train, test = usps_sets(paths.usps, cache_dir, limit)
        data.train.append(train)
        data.evaluation["usps_test"] = test
    if paths.pendigits is not None:
        data.pen = pendigits_data(paths.pendigits, cache_dir, pen_renders, render_cfg, limit)
        data.evaluation["pendigits_train_writers"] = data.pen.plain
    return data


def _join(parts: list[LabelledSet]) -> tuple[np.ndarray, np.ndarray]:
    return (np.concatenate([p.x for p in parts]),
            np.concatenate([p.y for p in parts]).astype(np.int64))


BASE_SET = "mnist train"


def split_base(data: TrainingData) -> tuple[list[LabelledSet], list[LabelledSet]]:
    """(phase 1's sets, the other writers' sets): MNIST first, or everything without it."""
    base = [s for s in data.train if s.name == BASE_SET]
    return (base, [s for s in data.train if s.name != BASE_SET]) if base else (data.train, [])


def base_items(data: TrainingData, feedback: LabelledSet | None, feedback_repeat: int
               ) -> tuple[np.ndarray, np.ndarray]:
    """Phase 1's epoch: MNIST train, plus the repeated feedback."""
    parts = list(split_base(data)[0])
    if feedback is not None and len(feedback):
        parts += [feedback] * feedback_repeat
    return _join(parts)


def pen_items(data: TrainingData, epoch: int, pen_per_epoch: int, replay: int,
              feedback: LabelledSet | None, feedback_repeat: int, rng: np.random.Generator
              ) -> tuple[np.ndarray, np.ndarray]:
    """Phase 2's epoch (epoch counts from 0): every digit of the other writers' sets,
    `pen_per_epoch` fresh drawings of every pen digit, a random `replay` sample of phase 1's
    digits, and the feedback."""
    base, others = split_base(data)
    x, y = replay_sample(TrainingData(base, None), replay, rng)
    parts = [LabelledSet("replay", x, y), *others]
    if data.pen is not None:
        parts += [data.pen.render(epoch * pen_per_epoch + k) for k in range(pen_per_epoch)]
    if feedback is not None and len(feedback):
        parts += [feedback] * feedback_repeat
    return _join(parts)


def replay_sample(data: TrainingData, n: int, rng: np.random.Generator
                  ) -> tuple[np.ndarray, np.ndarray]:
    """A random sample of the training sources, `n` in all, in proportion to their epoch share:
    what a fine-tune rehearses so it does not forget them."""
    parts = list(data.train)
    if data.pen is not None:
        parts.append(data.pen.render(int(rng.integers(0, len(data.pen.pool)))))
    total = sum(len(p) for p in parts)
    if total == 0:
        return np.zeros((0, 28, 28), np.uint8), np.zeros(0, np.int64)
    xs, ys = [], []
    for p in parts:
        k = min(len(p), max(1, round(n * len(p) / total)))
        pick = rng.choice(len(p), k, replace=False)
        xs.append(p.x[pick])
        ys.append(p.y[pick])
    return np.concatenate(xs), np.concatenate(ys).astype(np.int64)
