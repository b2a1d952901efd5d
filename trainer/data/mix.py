"""What one run trains on: every enabled source, mixed afresh each epoch.

Phase 1 epochs hold all of MNIST train; phase 2 epochs hold all of USPS train,
`pen_per_epoch` of the random drawings of every pen digit (new ones each epoch) and a
replayed sample of MNIST. Both add the feedback, repeated. Evaluation sets are the test
files and the plain drawings of the pen digits.

With "not a digit" (issue 12), each epoch also holds a fresh slice of the generated
non-digits (label 10), and a fixed share of MNIST train is held out of training altogether:
it fits the temperature and the rejection thresholds (`rejection` sets, never trained on),
so the test sets stay untouched.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from trainer.data import negatives as neg
from trainer.data.pairs import cut_pairs, touching_pairs
from trainer.data.sets import LabelledSet, PenData, mnist_sets, pendigits_data, usps_sets
from trainer.data.sources import DataPaths
from trainer.data.strokes import RenderConfig


@dataclass
class TrainingData:
    """Every enabled source's training part and evaluation sets."""

    train: list[LabelledSet]
    pen: PenData | None
    evaluation: dict[str, LabelledSet] = field(default_factory=dict)
    negatives: np.ndarray | None = None  # the training generator's pool (label 10)
    pairs: np.ndarray | None = None  # touching pairs of MNIST train digits (label 10)
    cut_pairs: LabelledSet | None = None  # ... and the same digits cut apart (their labels)
    # mnist_heldout + negatives_calibration (fit calibration), negatives_eval (scored only)
    rejection: dict[str, LabelledSet] = field(default_factory=dict)

    def sizes(self) -> dict[str, int]:
        """Items per source, for meta.json."""
        out = {s.name: len(s) for s in self.train}
        if self.pen is not None:
            out["pendigits digits"] = len(self.pen.plain)
        if self.negatives is not None:
            out["not-a-digit pool"] = len(self.negatives)
        if self.pairs is not None:
            out["touching pairs pool"] = len(self.pairs)
        if self.cut_pairs is not None:
            out["cut pairs pool"] = len(self.cut_pairs)
        out.update({name: len(s) for name, s in self.rejection.items()})
        return out


HOLDOUT_SEED = 4242
CALIBRATION_NEGATIVES = 2000
EVAL_NEGATIVES = 3000


def split_holdout(train: LabelledSet, n: int) -> tuple[LabelledSet, LabelledSet]:
    """(the training part, `n` held-out digits), the same digits every run."""
    if n <= 0:
        return train, LabelledSet("mnist_heldout", train.x[:0], train.y[:0])
    order = np.random.default_rng(HOLDOUT_SEED).permutation(len(train))
    held = np.sort(order[: min(n, len(train) // 5)])
    keep = np.ones(len(train), bool)
    keep[held] = False
    return train.subset(keep), train.subset(held, "mnist_heldout")


def load_training_data(paths: DataPaths, cache_dir: Path | None, pen_renders: int,
                       render_cfg: RenderConfig, limit: int | None = None,
                       holdout: int = 0, negatives: int = 0, pairs: int = 0) -> TrainingData:
    """Load (and cache) each enabled source; with `negatives`, a pool of that many generated
    non-digits and the rejection sets (which need MNIST), and with `pairs`, that many touching
    pairs of MNIST train digits, squeezed and cut apart (`trainer.data.pairs`)."""
    data = TrainingData([], None)
    if paths.use_mnist:
        train, test = mnist_sets(paths.mnist, cache_dir, limit)
        train, held = split_holdout(train, holdout)
        data.train.append(train)
        data.evaluation["mnist_test"] = test
        if len(held):
            data.rejection["mnist_heldout"] = held
        if negatives > 0:
            add_negatives(data, train, test, negatives, cache_dir, limit, pairs)
    if paths.usps is not None:
        train, test = usps_sets(paths.usps, cache_dir, limit)
        data.train.append(train)
        data.evaluation["usps_test"] = test
    if paths.pendigits is not None:
        data.pen = pendigits_data(paths.pendigits, cache_dir, pen_renders, render_cfg, limit)
        data.evaluation["pendigits_train_writers"] = data.pen.plain
    return data


def add_negatives(data: TrainingData, train: LabelledSet, test: LabelledSet, n: int,
                  cache_dir: Path | None, limit: int | None, pairs: int = 0) -> None:
    """The training pool (cut-offs from MNIST train), the calibration set and the separate
    evaluation set (other fonts, other seed, cut-offs from MNIST test); with `pairs`, that
    many touching pairs of MNIST train digits, squeezed and cut apart."""
    small = limit is not None  # smoke runs: a few of each, nothing cached
    n, pairs = (min(k, max(limit, 50)) for k in (n, pairs)) if small else (n, pairs)
    cache = None if small else cache_dir
    data.negatives = neg.negatives("train", n, train.x, train.y, cache)
    data.rejection.update(negative_sets(train, test, cache, small))
    if pairs > 0:
        data.pairs = touching_pairs(pairs, train.x, cache)
        data.cut_pairs = LabelledSet("cut pairs", *cut_pairs(pairs, train.x, train.y, cache))


def negative_sets(train: LabelledSet, test: LabelledSet, cache_dir: Path | None,
                  small: bool = False) -> dict[str, LabelledSet]:
    """`negatives_calibration` (the training generator, its own seed, cut-offs of MNIST
    train) and `negatives_eval` (other fonts, other seed, cut-offs of MNIST test)."""
    n_cal, n_eval = (100, 100) if small else (CALIBRATION_NEGATIVES, EVAL_NEGATIVES)
    out = {}
    for kind, count, source in (("calibration", n_cal, train), ("eval", n_eval, test)):
        x = neg.negatives(kind, count, source.x, source.y, cache_dir)
        out[f"negatives_{kind}"] = LabelledSet(f"negatives_{kind}", x,
                                               np.full(len(x), neg.NOT_A_DIGIT, np.int64))
    return out


def with_negatives(x: np.ndarray, y: np.ndarray, data: TrainingData, epoch: int, n: int
                   ) -> tuple[np.ndarray, np.ndarray]:
    """An epoch's items plus the epoch-th slice of `n` non-digits from the pool (wrapping).

    An epoch holds each non-digit at most once: a small pool (a `--limit` smoke run) gives a
    small slice, so a few hundred digits are not drowned in thousands of repeated negatives."""
    return _with_slice(x, y, data.negatives, epoch, n)


def with_pairs(x: np.ndarray, y: np.ndarray, data: TrainingData, epoch: int, n: int
               ) -> tuple[np.ndarray, np.ndarray]:
    """An epoch's items plus the epoch-th slice of `n` touching pairs (label 10, wrapping)
    and, when prepared, of `n` digits cut out of such pairs (their own labels)."""
    x, y = _with_slice(x, y, data.pairs, epoch, n)
    if data.cut_pairs is None:
        return x, y
    return _with_slice(x, y, data.cut_pairs.x, epoch, n, data.cut_pairs.y)


def _with_slice(x: np.ndarray, y: np.ndarray, pool: np.ndarray | None, epoch: int, n: int,
                labels: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """`x, y` plus the epoch-th slice of `n` of the pool, labelled `labels` (or 10)."""
    if pool is None or n <= 0 or not len(pool):
        return x, y
    n = min(n, len(pool))
    pick = (np.arange(n) + epoch * n) % len(pool)
    added = labels[pick] if labels is not None else np.full(n, neg.NOT_A_DIGIT, np.int64)
    return np.concatenate([x, pool[pick]]), np.concatenate([y, added.astype(np.int64)])


def _join(parts: list[LabelledSet]) -> tuple[np.ndarray, np.ndarray]:
    return (np.concatenate([p.x for p in parts]),
            np.concatenate([p.y for p in parts]).astype(np.int64))


BASE_SET = "mnist train"


def split_base(data: TrainingData) -> tuple[list[LabelledSet], list[LabelledSet]]:
    """(phase 1's sets, the other writers' sets): MNIST first, or everything without it."""
    base = [s for s in data.train if s.name == BASE_SET]
    return (base, [s for s in data.train if s.name != BASE_SET]) if base else (data.train, [])


def base_items(data: TrainingData, feedback: LabelledSet | None, feedback_repeat: int,
               with_others: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """Phase 1's epoch: MNIST train (and, `with_others`, the other scanned sets: USPS),
    plus the repeated feedback."""
    base, others = split_base(data)
    parts = list(base) + (list(others) if with_others else [])
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
