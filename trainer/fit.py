"""Fit a Keras model on augmented epochs: optimiser, progress and the fit calls.

TensorFlow is imported inside the functions, so importing this module stays cheap.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np

from shared.model_def import training_view
from trainer.feeding import to_input

log = logging.getLogger(__name__)

EVAL_BATCH = 500
EpochHook = Callable[[int, int, dict[str, float]], None]
Epochs = Callable[[], Iterator[tuple[np.ndarray, np.ndarray]]]


def compile_model(model: Any, learning_rate: float, lr_floor: float, total_steps: int) -> Any:
    """Compile with Adam on a cosine learning-rate decay over `total_steps`; returns the
    model to fit (an ensemble's `training_view`: one loss per member, the layers shared)."""
    import keras

    view = training_view(model)
    n = len(view.outputs)
    schedule = keras.optimizers.schedules.CosineDecay(
        learning_rate, decay_steps=max(1, total_steps), alpha=lr_floor)
    view.compile(optimizer=keras.optimizers.Adam(schedule),
                 loss=["sparse_categorical_crossentropy"] * n if n > 1
                 else "sparse_categorical_crossentropy",
                 metrics=[["accuracy"]] * n if n > 1 else ["accuracy"])
    return view


def freeze_batchnorm(model: Any) -> Any:
    """Keep every BatchNormalization layer in inference mode with its statistics fixed.

    A short adjustment on a small, heavily augmented mixture would otherwise pull the moving
    statistics (momentum 0.95) towards that mixture within a few hundred steps, and the
    model then reads clean MNIST worse than before (seen on MNIST *train* digits: 99.69% ->
    99.44% after one such phase with the statistics free)."""
    import keras

    for layer in model.layers:
        if isinstance(layer, keras.layers.BatchNormalization):
            layer.trainable = False
        elif hasattr(layer, "layers"):  # an ensemble's member
            freeze_batchnorm(layer)
    return model


def save_inference_copy(model: Any, hparams: dict[str, Any], path: Path) -> None:
    """Save the weights in a fresh, uncompiled model of the same architecture (a fine-tuned
    10-class version stays 10-class): no optimizer state, a third the size."""
    import keras

    clean = keras.models.clone_model(model)
    clean.set_weights(model.get_weights())
    clean.save(path)


def _epoch_metrics(logs: dict | None, seconds: float) -> dict[str, float]:
    """The logged metrics of one epoch, rounded for JSON."""
    logs = dict(logs or {})
    for prefix in ("", "val_"):  # an ensemble logs each member's accuracy: show their mean
        key = f"{prefix}accuracy"
        parts = [float(v) for k, v in logs.items() if k.endswith("accuracy")
                 and k.startswith(prefix) and (prefix or not k.startswith("val_"))]
        if key not in logs and parts:
            logs[key] = sum(parts) / len(parts)
    metrics = {k: round(float(logs[k]), 5) for k in
               ("loss", "accuracy", "val_loss", "val_accuracy") if k in logs}
    metrics["seconds"] = round(seconds, 2)
    return metrics


def epoch_report(epochs: int, steps: int, on_epoch: EpochHook | None, progress: bool,
                 history: list[dict[str, float]]) -> Any:
    """A Keras callback: a tqdm bar per epoch (optional), one log line, the `on_epoch` hook."""
    import keras

    class EpochReport(keras.callbacks.Callback):
        def on_epoch_begin(self, epoch: int, logs: dict | None = None) -> None:
            self.started = time.perf_counter()
            if progress:
                from tqdm import tqdm

                self.bar = tqdm(total=steps, desc=f"epoch {epoch + 1}/{epochs}", leave=False,
                                unit="batch", dynamic_ncols=True)

        def on_train_batch_end(self, batch: int, logs: dict | None = None) -> None:
            if progress:
                self.bar.update(1)
                if batch % 20 == 0 and logs:
                    shown = _epoch_metrics(logs, 0.0)
                    self.bar.set_postfix(loss=f"{shown.get('loss', 0):.4f}",
                                         acc=f"{shown.get('accuracy', 0):.4f}")

        def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
            if progress:
                self.bar.close()
            metrics = _epoch_metrics(logs, time.perf_counter() - self.started)
            history.append({"epoch": epoch + 1, **metrics})
            log.info("epoch %d/%d: %s", epoch + 1, epochs, metrics)
            if on_epoch is not None:
                on_epoch(epoch + 1, epochs, metrics)

    return EpochReport()


def fit(model: Any, epochs_data: Epochs, epochs: int, steps: int, batch_size: int,
        validation: tuple[np.ndarray, np.ndarray] | None, on_epoch: EpochHook | None,
        progress: bool) -> tuple[list[dict[str, float]], float]:
    """Fit one in-memory epoch at a time (the train step is traced once and kept across the
    calls, and the cosine schedule follows the optimizer's step count); returns the per-epoch
    history and the seconds it took."""
    n = len(model.outputs)

    def labels(y: np.ndarray) -> Any:  # an ensemble's training view: each member, one label
        return y if n == 1 else (y,) * n

    val = None if validation is None else (to_input(validation[0]), labels(validation[1]))
    history: list[dict[str, float]] = []
    report = epoch_report(epochs, steps, on_epoch, progress, history)
    started = time.perf_counter()
    for epoch, (x, y) in enumerate(epochs_data()):
        model.fit(x, labels(y), batch_size=batch_size, epochs=epoch + 1, initial_epoch=epoch,
                  verbose=0, shuffle=False, validation_data=val,
                  validation_batch_size=EVAL_BATCH, callbacks=[report])
    return history, time.perf_counter() - started


def steps_per_epoch(n_items: int, batch_size: int) -> int:
    """Batches in one epoch of n_items."""
    return max(1, math.ceil(n_items / batch_size))
