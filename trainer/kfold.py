"""Pendigits k-fold by writer: how the recipe reads pen writers it never trained on.

The 30 writers are split into k folds of consecutive writer ids (5 folds of 6). For each fold
a model is trained with the full recipe on everything except that fold's writers, and scored
on the fold's digits drawn plainly with the page's brush. The figure is all folds' hits over
all digits.
"""

from __future__ import annotations

import logging
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from trainer.data.mix import load_training_data
from trainer.data.pendigits import writer_folds
from trainer.data.sets import LabelledSet
from trainer.data.sources import DataPaths
from trainer.evaluate import SetScore, confusion_matrix, saved_classifier, score_set
from trainer.recipe import Recipe
from trainer.scratch import train_scratch

log = logging.getLogger(__name__)

FOLDS = 5


@dataclass
class FoldScore:
    """One held-out fold: its writers and the score of the model trained without them."""

    writers: list[int]
    score: SetScore
    train_seconds: float


def pooled(folds: list[FoldScore], held: list[LabelledSet]) -> tuple[SetScore, LabelledSet]:
    """All folds' predictions as one score on all the pen digits."""
    labels = np.concatenate([h.y for h in held])
    predicted = np.concatenate([f.score.predicted for f in folds])
    data = LabelledSet("pendigits_kfold", np.concatenate([h.x for h in held]), labels,
                       np.concatenate([h.writers for h in held]))
    accuracy = float((predicted == labels).mean()) if len(labels) else 0.0
    return SetScore(data.name, accuracy, len(labels), confusion_matrix(labels, predicted),
                    predicted), data


def pendigits_kfold(paths: DataPaths, recipe: Recipe, cache_dir: Path | None,
                    k: int = FOLDS, limit: int | None = None, progress: bool = True,
                    phase1_from: Path | None = None
                    ) -> tuple[list[FoldScore], SetScore, LabelledSet]:
    """Train k models, each without one fold of writers; score each on its fold."""
    if paths.pendigits is None:
        raise ValueError("the pendigits source is off or missing: no folds to hold out")
    plain = load_training_data(paths, cache_dir, recipe.pen_renders, recipe.render,
                               limit).pen.plain
    folds, held = [], []
    bar = _bar(k, progress)
    for i, writers in enumerate(writer_folds(plain.writers, k)):
        fold = plain.subset(np.isin(plain.writers, writers), f"pendigits fold {i + 1}")
        with tempfile.TemporaryDirectory(prefix="digitflow-fold-") as workdir:
            result = train_scratch(paths, recipe, Path(workdir), cache_dir, limit=limit,
                                   progress=progress, exclude_writers=writers,
                                   phase1_from=phase1_from)
            score = score_set(saved_classifier(Path(workdir)), fold)
        folds.append(FoldScore([int(w) for w in writers], score, result.meta["train_seconds"]))
        held.append(fold)
        log.info("fold %d/%d (writers %s): %.2f%% of %d", i + 1, k, [int(w) for w in writers],
                 100 * score.accuracy, score.n)
        if bar is not None:
            bar.update(1)
            bar.set_postfix(last=f"{score.accuracy:.2%}")
    if bar is not None:
        bar.close()
    total, data = pooled(folds, held)
    return folds, total, data


def _bar(k: int, progress: bool) -> object | None:
    """A progress bar over the folds."""
    if not progress:
        return None
    from tqdm import tqdm

    return tqdm(total=k, desc="pendigits folds", unit="fold", dynamic_ncols=True)
