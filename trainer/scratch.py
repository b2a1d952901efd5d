"""Train a model from scratch on every enabled source (+ feedback), save it and score it.

`digitflow train`, the trainer's `mode: "scratch"` and each pendigits fold call this, so a
model is built the same way whichever path asked for it. Two phases (see `Recipe`): phase 1
on MNIST from random weights, phase 2 adds USPS and the pen drawings. Phase 1's weights are
cached when no feedback took part, so the k-fold, which only changes phase 2, trains it once;
`phase1_from` names a folder whose model.keras already is phase 1 (the previous bundled model
was trained with exactly phase 1's settings).
"""

from __future__ import annotations

import hashlib
import json
import logging
import time
from dataclasses import asdict
from pathlib import Path
from typing import Any

import numpy as np

from shared.model_def import build_model, ensemble_from
from shared.model_store import META_FILE, MODEL_FILE
from trainer import fit
from trainer.data.feedback import split_feedback, within_classes
from trainer.data.mix import (
    TrainingData,
    base_items,
    load_training_data,
    pen_items,
    split_base,
    with_negatives,
    with_pairs,
)
from trainer.data.sets import LabelledSet
from trainer.data.sources import DataPaths
from trainer.feeding import augmented_epochs
from trainer.finish import finish_run
from trainer.recipe import Recipe
from trainer.result import TrainResult

log = logging.getLogger(__name__)

Feedback = tuple[np.ndarray, np.ndarray]
History = list[dict[str, float]]


def _without_writers(data: TrainingData, writers: np.ndarray | None) -> TrainingData:
    """Leave some pen writers out of training (and of the pen evaluation set)."""
    if writers is None or data.pen is None:
        return data
    from dataclasses import replace

    pen = data.pen.without_writers(writers)
    return replace(data, pen=pen, evaluation={**data.evaluation,
                                              "pendigits_train_writers": pen.plain})


def _validation(data: TrainingData) -> tuple[np.ndarray, np.ndarray] | None:
    """The per-epoch curve's set: MNIST test when present (shown, never used to choose)."""
    test = data.evaluation.get("mnist_test")
    return None if test is None else (test.x, test.y)


def _phase1_key(recipe: Recipe, data: TrainingData, paths: DataPaths) -> str:
    """What phase 1 depends on: its settings, the sets it trains on (MNIST, and USPS when
    `usps_in_phase1`) and where they came from, so a run without USPS, or with another USPS
    folder or split, never reuses a phase 1 trained on different data."""
    fields = {k: v for k, v in asdict(recipe).items() if k in
              ("epochs", "batch_size", "learning_rate", "lr_floor", "augment", "hparams",
               "seed", "usps_in_phase1", "negatives_pool", "negatives_per_epoch",
               "calibration_holdout")}
    base, others = split_base(data)
    sets = base + others if recipe.usps_in_phase1 else base
    where = paths.describe()
    blob = json.dumps([fields, where["mnist"], where["usps"] if recipe.usps_in_phase1 else None,
                       {s.name: len(s) for s in sets}], sort_keys=True, default=str)
    return hashlib.sha256(blob.encode()).hexdigest()[:16]


def train_phase1(data: TrainingData, recipe: Recipe, feedback: LabelledSet,
                 on_epoch: fit.EpochHook | None, progress: bool) -> tuple[Any, History, float]:
    """Phase 1: MNIST (+ feedback) from random weights on a cosine schedule."""
    x, y = base_items(data, feedback, recipe.feedback_repeat, recipe.usps_in_phase1)
    steps = fit.steps_per_epoch(len(with_negatives(x, y, data, 0, recipe.negatives_per_epoch)[1]),
                                recipe.batch_size)
    log.info("phase 1: %d digits an epoch, %d epochs", len(y), recipe.epochs)
    import keras

    keras.utils.set_random_seed(recipe.seed)
    model = build_model(recipe.hparams)
    trainable = fit.compile_model(model, recipe.learning_rate, recipe.lr_floor,
                                  steps * recipe.epochs)
    history, seconds = fit.fit(
        trainable, lambda: augmented_epochs(
            lambda e: with_negatives(x, y, data, e, recipe.negatives_per_epoch),
            recipe.epochs, recipe.seed, recipe.augment),
        recipe.epochs, steps, recipe.batch_size, _validation(data), on_epoch, progress)
    return model, history, seconds


def cached_phase1(data: TrainingData, recipe: Recipe, paths: DataPaths,
                  cache_dir: Path | None, feedback: LabelledSet,
                  on_epoch: fit.EpochHook | None, progress: bool
                  ) -> tuple[Any, History, float]:
    """Phase 1, read from the cache when it was trained before without feedback."""
    cacheable = cache_dir is not None and not len(feedback)
    path = Path(cache_dir or ".") / f"phase1-{_phase1_key(recipe, data, paths)}"
    if cacheable and (path / MODEL_FILE).exists():
        import keras

        log.info("phase 1 weights from %s", path)
        saved = json.loads((path / "history.json").read_text())
        model = keras.saving.load_model(path / MODEL_FILE, compile=False)
        return model, saved["history"], saved["seconds"]
    model, history, seconds = train_phase1(data, recipe, feedback, on_epoch, progress)
    if cacheable:
        path.mkdir(parents=True, exist_ok=True)
        fit.save_inference_copy(model, recipe.hparams, path / MODEL_FILE)
        (path / "history.json").write_text(json.dumps({"history": history,
                                                       "seconds": seconds}))
    return model, history, seconds


def train_phase2(model: Any, data: TrainingData, recipe: Recipe, feedback: LabelledSet,
                 on_epoch: fit.EpochHook | None, progress: bool) -> tuple[History, float]:
    """Phase 2: USPS and the pen drawings with a replayed sample of MNIST, at a lower rate."""
    if (data.pen is None and not split_base(data)[1]) or recipe.pen_epochs <= 0:
        return [], 0.0
    rng = np.random.default_rng(recipe.seed + 1)

    def items(epoch: int) -> tuple[np.ndarray, np.ndarray]:
        x, y = pen_items(data, epoch, recipe.pen_per_epoch, recipe.pen_replay, feedback,
                         recipe.feedback_repeat, rng)
        # phase 1 used the first `epochs` slices of the pool; phase 2 goes on from there
        x, y = with_negatives(x, y, data, 10_000 + epoch, recipe.pen_negatives)
        return with_pairs(x, y, data, epoch, recipe.pen_pairs)

    n = len(pen_items(data, 0, recipe.pen_per_epoch, recipe.pen_replay, feedback,
                      recipe.feedback_repeat, np.random.default_rng(0))[1])
    if data.negatives is not None:  # as many as `with_negatives` adds
        n += min(recipe.pen_negatives, len(data.negatives))
    for pool in (data.pairs, data.cut_pairs):  # as many as `with_pairs` adds
        if pool is not None:
            n += min(recipe.pen_pairs, len(pool))
    steps = fit.steps_per_epoch(n, recipe.batch_size)
    log.info("phase 2: %d digits an epoch, %d epochs", n, recipe.pen_epochs)
    trainable = fit.compile_model(fit.freeze_batchnorm(model), recipe.pen_learning_rate,
                                  recipe.lr_floor, steps * recipe.pen_epochs)
    return fit.fit(trainable, lambda: augmented_epochs(items, recipe.pen_epochs,
                                                   recipe.seed + 1, recipe.pen_augment),
                   recipe.pen_epochs, steps, recipe.batch_size, _validation(data), on_epoch,
                   progress)


def train_scratch(paths: DataPaths, recipe: Recipe, workdir: Path, cache_dir: Path | None,
                  feedback: Feedback | None = None, limit: int | None = None,
                  on_epoch: fit.EpochHook | None = None, progress: bool = True,
                  exclude_writers: np.ndarray | None = None,
                  phase1_from: Path | None = None) -> TrainResult:
    """Both phases from random weights (phase 1 read from `phase1_from` when given); the
    files go to `workdir`."""
    started = time.perf_counter()
    data = _without_writers(load_training_data(paths, cache_dir, recipe.pen_renders,
                                               recipe.render, limit,
                                               recipe.calibration_holdout, recipe.negatives,
                                               recipe.pairs),
                            exclude_writers)
    fb_train, fb_held = split_feedback(*(feedback or (np.zeros((0, 28, 28)), np.zeros(0))))
    fb_train = within_classes(fb_train, recipe.hparams.get("classes", 10))
    total = recipe.epochs + recipe.pen_epochs
    if phase1_from is not None:
        model, history, seconds = _load_phase1(Path(phase1_from), recipe.hparams)
    else:
        model, history, seconds = cached_phase1(data, recipe, paths, cache_dir, fb_train,
                                                _shifted(on_epoch, 0, total), progress)
    history2, seconds2 = train_phase2(model, data, recipe, fb_train,
                                      _shifted(on_epoch, len(history), total), progress)
    history = history + [{**h, "epoch": h["epoch"] + len(history), "phase": 2}
                         for h in history2]
    extra: dict[str, Any] = {"limit": limit, "phase1_seconds": round(seconds, 1),
                             "phase1_from": str(phase1_from) if phase1_from else None,
                             "excluded_writers": None if exclude_writers is None
                             else [int(w) for w in exclude_writers]}
    fit_seconds = seconds2 if phase1_from is not None else seconds + seconds2  # this machine
    return finish_run(model, recipe, "scratch", workdir, data, paths,
                      {"feedback_train": fb_train, "feedback_heldout": fb_held}, history,
                      fit_seconds, time.perf_counter() - started, extra)


def _load_phase1(folder: Path, hparams: dict[str, Any] | None = None
                 ) -> tuple[Any, History, float]:
    """Phase-1 weights trained earlier, with that run's history and fit time when recorded.

    `folder` may name several folders, comma-separated: each becomes one member of the
    ensemble `hparams` asks for, and a 10-class model gains the "not a digit" output
    (`shared.model_def.ensemble_from`)."""
    import keras

    folders = [Path(f) for f in str(folder).split(",") if f]
    models = [keras.saving.load_model(f / MODEL_FILE, compile=False) for f in folders]
    meta_file = folders[0] / META_FILE
    meta = json.loads(meta_file.read_text()) if meta_file.exists() else {}
    history = [{k: v for k, v in h.items() if k != "phase"} for h in meta.get("history", [])
               if h.get("phase") is None]
    hp = {**(hparams or {})}
    wanted = (hp.get("members", 1), hp.get("classes", 10))
    model = models[0]
    if len(models) > 1 or wanted != (1, int(model.outputs[0].shape[-1])):
        model = ensemble_from(models, hp)
    log.info("phase 1 weights from %s (%d epochs recorded)", ", ".join(map(str, folders)),
             len(history))
    return model, history, float(meta.get("train_seconds", 0.0))


def _shifted(hook: fit.EpochHook | None, offset: int, total: int) -> fit.EpochHook | None:
    """Report a phase's epochs as epochs of the whole run."""
    if hook is None:
        return None
    return lambda epoch, _n, metrics: hook(epoch + offset, total, metrics)
