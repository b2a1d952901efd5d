"""Fine-tune the active version on the feedback plus a replayed sample of the training sets.

A from-scratch retrain buries 30 feedback drawings among 60,000 MNIST digits and takes the
full recipe's time. A fine-tune starts from the active weights, trains `finetune_epochs` short
epochs at a low learning rate on the (repeated) feedback and a fresh random sample of every
training source each epoch (so it keeps what it knew), then goes through the same scoring and
gate as a scratch run.
"""

from __future__ import annotations

import logging
import time
from pathlib import Path

import numpy as np

from shared.model_store import MODEL_FILE
from trainer import fit
from trainer.data.feedback import split_feedback, within_classes
from trainer.data.mix import load_training_data, replay_sample, with_negatives, with_pairs
from trainer.data.sources import DataPaths
from trainer.feeding import augmented_epochs
from trainer.finish import finish_run
from trainer.recipe import Recipe
from trainer.result import TrainResult

log = logging.getLogger(__name__)


def load_weights(model_dir: Path) -> object:
    """The active version's Keras model, ready to be compiled again."""
    import keras

    return keras.saving.load_model(Path(model_dir) / MODEL_FILE, compile=False)


def train_finetune(paths: DataPaths, recipe: Recipe, base_model_dir: Path, workdir: Path,
                   cache_dir: Path | None, feedback: tuple[np.ndarray, np.ndarray] | None,
                   limit: int | None = None, on_epoch: fit.EpochHook | None = None,
                   progress: bool = True) -> TrainResult:
    """Adjust the model in `base_model_dir` to the feedback; the files go to `workdir`."""
    started = time.perf_counter()
    model = load_weights(base_model_dir)
    classes = int(model.outputs[0].shape[-1])
    # an 11-class version keeps rehearsing "not a digit" (touching pairs too) and is
    # calibrated afresh
    data = load_training_data(paths, cache_dir, recipe.pen_renders, recipe.render, limit,
                              recipe.calibration_holdout,
                              recipe.negatives_pool if classes > 10 else 0,
                              recipe.pairs if classes > 10 else 0)
    fb_train, fb_held = split_feedback(*(feedback or (np.zeros((0, 28, 28)), np.zeros(0))))
    fb_train = within_classes(fb_train, classes)
    n_negatives = recipe.finetune_replay // 10 if classes > 10 else 0
    rng = np.random.default_rng(recipe.seed)
    fb_x = np.repeat(fb_train.x, recipe.finetune_feedback_repeat, axis=0)
    fb_y = np.repeat(fb_train.y, recipe.finetune_feedback_repeat)

    def items(epoch: int) -> tuple[np.ndarray, np.ndarray]:
        x, y = with_negatives(*replay_sample(data, recipe.finetune_replay, rng), data,
                              int(rng.integers(0, 1000)), n_negatives)
        x, y = with_pairs(x, y, data, int(rng.integers(0, 1000)), n_negatives // 2)
        return np.concatenate([x, fb_x]), np.concatenate([y, fb_y]).astype(np.int64)

    n_epoch = len(items(0)[1])
    steps = fit.steps_per_epoch(n_epoch, recipe.batch_size)
    epochs = recipe.finetune_epochs
    log.info("fine-tuning %s on %d digits an epoch (%d feedback x%d), %d epochs",
             base_model_dir, n_epoch, len(fb_train), recipe.finetune_feedback_repeat, epochs)
    import keras

    keras.utils.set_random_seed(recipe.seed)
    model = fit.freeze_batchnorm(model)
    trainable = fit.compile_model(model, recipe.finetune_learning_rate, recipe.lr_floor,
                                  steps * epochs)
    history, seconds = fit.fit(
        trainable, lambda: augmented_epochs(items, epochs, recipe.seed, recipe.augment),
        epochs, steps, recipe.batch_size, None, on_epoch, progress)
    extra = {"n_per_epoch": n_epoch, "limit": limit, "base_model": str(base_model_dir)}
    return finish_run(model, recipe, "finetune", workdir, data, paths,
                      {"feedback_train": fb_train, "feedback_heldout": fb_held}, history,
                      seconds, time.perf_counter() - started, extra)
