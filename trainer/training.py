"""Train, evaluate and publish a digit model: the one function `digitflow train` and the Celery
trainer both call, so a model is built the same way whichever path asked for it.

Sections, in order: data (MNIST through `shared.preprocess`, cached), feeding (augmentation in
a background thread), model, train, evaluate, publish. TensorFlow is imported lazily so that
importing this module stays cheap.
"""

from __future__ import annotations

import hashlib
import json
import logging
import math
import queue
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from shared.mnist import WHERE_TO_GET, DatasetError, load_mnist, resolve_data_dir
from shared.model_def import DEFAULT_HPARAMS, build_model
from shared.model_store import META_FILE, MODEL_FILE, ModelStore
from shared.preprocess import to_mnist_batch
from trainer.augment import AugmentConfig, augment_batch

log = logging.getLogger(__name__)

DEFAULT_EPOCHS = 10  # ~29 s/epoch measured here (25-40 s on the shared CPU): 5-7 min in all
BATCH_SIZE = 128
LEARNING_RATE = 2e-3  # Adam, decayed along a cosine to LR_FLOOR x this over the whole run
LR_FLOOR = 0.01
SEED = 1234
SMOKE_TEST_SIZE = 1000  # with `limit`, evaluate on only this many test images
FEEDBACK_REPEAT = 5  # user feedback is scarce: each example appears this many times per epoch
EVAL_BATCH = 500
GATE_TOLERANCE = 0.001  # 0.1 percentage points, as a fraction
PREPROCESS_SOURCE = Path(__file__).resolve().parents[1] / "shared" / "preprocess.py"

EpochHook = Callable[[int, int, dict[str, float]], None]


@dataclass
class TrainResult:
    """A trained, saved and evaluated model, ready to publish."""

    model_file: Path
    test_accuracy: float
    history: list[dict[str, float]]
    confusion: np.ndarray
    seconds: float
    meta: dict[str, Any] = field(default_factory=dict)


@dataclass
class Prepared:
    """MNIST after `to_mnist_batch`: exactly what serving feeds the model."""

    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    source: str


# ---------------------------------------------------------------- data
def default_cache_dir() -> Path:
    """Sit next to the model cache (var/cache by default), so one folder holds all caches."""
    from shared.settings import get_settings

    return Path(get_settings().model_cache).parent / "mnist"


def _cache_key(folder: Path | None) -> str:
    """Key on the data files and on preprocess.py, so a pipeline change invalidates the cache."""
    h = hashlib.sha256(PREPROCESS_SOURCE.read_bytes())
    if folder is None:
        h.update(b"keras-download")
    else:
        h.update(str(folder.resolve()).encode())
        for f in sorted(p for p in folder.iterdir() if p.is_file()):
            h.update(f"{f.name}:{f.stat().st_size}:{f.stat().st_mtime_ns}".encode())
    return h.hexdigest()[:16]


def _preprocess(images: np.ndarray, labels: np.ndarray, name: str) -> tuple[np.ndarray, ...]:
    """Run the serving pipeline on a split, dropping images it finds empty."""
    digits, empty = to_mnist_batch(images)
    if empty.any():
        log.warning("dropping %d empty %s images", int(empty.sum()), name)
    return digits[~empty], np.asarray(labels, np.int64)[~empty]


def prepare_mnist(
    data_dir: str | None, limit: int | None = None, cache_dir: Path | None = None
) -> Prepared:
    """Load and preprocess MNIST; full runs are cached as .npz, `limit` runs are not."""
    folder = resolve_data_dir(data_dir)
    if folder is not None and not folder.is_dir():
        raise DatasetError(f"MNIST folder {folder} does not exist. {WHERE_TO_GET}")
    source = str(folder) if folder else "keras download"
    if limit is not None:
        train, test = load_mnist("train", data_dir), load_mnist("test", data_dir)
        n_test = min(SMOKE_TEST_SIZE, len(test))
        x_tr, y_tr = _preprocess(train.images[:limit], train.labels[:limit], "train")
        x_te, y_te = _preprocess(test.images[:n_test], test.labels[:n_test], "test")
        return Prepared(x_tr, y_tr, x_te, y_te, source)
    cache = (cache_dir or default_cache_dir()) / f"mnist-{_cache_key(folder)}.npz"
    if cache.exists():
        with np.load(cache) as z:
            log.info("using preprocessed MNIST from %s", cache)
            return Prepared(z["x_train"], z["y_train"], z["x_test"], z["y_test"], source)
    started = time.perf_counter()
    train, test = load_mnist("train", data_dir), load_mnist("test", data_dir)
    x_tr, y_tr = _preprocess(train.images, train.labels, "train")
    x_te, y_te = _preprocess(test.images, test.labels, "test")
    cache.parent.mkdir(parents=True, exist_ok=True)
    tmp = cache.with_suffix(f".{threading.get_ident()}.tmp.npz")
    np.savez(tmp, x_train=x_tr, y_train=y_tr, x_test=x_te, y_test=y_te)
    tmp.replace(cache)  # atomic: a concurrent run never reads half a cache file
    log.info("preprocessed MNIST in %.1fs, cached at %s", time.perf_counter() - started, cache)
    return Prepared(x_tr, y_tr, x_te, y_te, source)


# ---------------------------------------------------------------- feeding
def _to_input(digits: np.ndarray) -> np.ndarray:
    """uint8 digits -> the model's float 0..1 (n, 28, 28, 1), as Classifier does in-graph."""
    return (digits.astype(np.float32) / 255.0)[..., None]


def augmented_batches(
    images: np.ndarray, labels: np.ndarray, epochs: int, batch_size: int, seed: int,
    cfg: AugmentConfig,
) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """Yield shuffled, augmented batches; the next epoch is augmented in a thread meanwhile."""
    ready: queue.Queue[tuple[np.ndarray, np.ndarray]] = queue.Queue(maxsize=1)
    stop = threading.Event()

    def produce() -> None:
        rng = np.random.default_rng(seed)
        for _ in range(epochs):
            order = rng.permutation(len(images))
            item = (augment_batch(images[order], rng, cfg), labels[order])
            while not stop.is_set():
                try:
                    ready.put(item, timeout=0.5)
                    break
                except queue.Full:
                    continue

    threading.Thread(target=produce, name="augment", daemon=True).start()
    try:
        for _ in range(epochs):
            x, y = ready.get()
            for start in range(0, len(x), batch_size):
                yield _to_input(x[start : start + batch_size]), y[start : start + batch_size]
    finally:
        stop.set()


# ---------------------------------------------------------------- model
def compile_model(hparams: dict[str, Any], total_steps: int) -> Any:
    """Build the CNN with Adam on a cosine learning-rate decay over `total_steps`."""
    import keras

    model = build_model(hparams)
    schedule = keras.optimizers.schedules.CosineDecay(
        hparams["learning_rate"], decay_steps=max(1, total_steps), alpha=hparams["lr_floor"]
    )
    model.compile(
        optimizer=keras.optimizers.Adam(schedule),
        loss="sparse_categorical_crossentropy",
        metrics=["accuracy"],
    )
    return model


def _save_inference_copy(model: Any, hparams: dict[str, Any], path: Path) -> None:
    """Save the weights in a fresh, uncompiled model: no optimizer state, a third the size."""
    clean = build_model(hparams)
    clean.set_weights(model.get_weights())
    clean.save(path)


# ---------------------------------------------------------------- train
def _callbacks(epochs: int, steps: int, on_epoch: EpochHook | None, progress: bool,
               history: list[dict[str, float]]) -> list[Any]:
    """A tqdm bar per epoch (optional), then one log line and the `on_epoch` hook."""
    import keras

    class EpochReport(keras.callbacks.Callback):
        def on_train_begin(self, logs: dict | None = None) -> None:
            log.debug("fit started")

        def on_train_end(self, logs: dict | None = None) -> None:
            log.debug("fit ended")

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
                    self.bar.set_postfix(loss=f"{logs['loss']:.4f}", acc=f"{logs['accuracy']:.4f}")

        def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
            if progress:
                self.bar.close()
            logs = logs or {}
            metrics = {k: round(float(logs[k]), 5) for k in
                       ("loss", "accuracy", "val_loss", "val_accuracy") if k in logs}
            metrics["seconds"] = round(time.perf_counter() - self.started, 2)
            history.append({"epoch": epoch + 1, **metrics})
            log.info("epoch %d/%d: loss %.4f acc %.4f val_loss %.4f val_acc %.4f (%.1fs)",
                     epoch + 1, epochs, metrics.get("loss", math.nan),
                     metrics.get("accuracy", math.nan), metrics.get("val_loss", math.nan),
                     metrics.get("val_accuracy", math.nan), metrics["seconds"])
            if on_epoch is not None:
                on_epoch(epoch + 1, epochs, metrics)

    return [EpochReport()]


def train_model(
    data_dir: str | None,
    epochs: int | None = None,
    limit: int | None = None,
    extra: tuple[np.ndarray, np.ndarray] | None = None,
    on_epoch: EpochHook | None = None,
    workdir: Path | None = None,
    progress: bool = True,
    hparams: dict[str, Any] | None = None,
    seed: int = SEED,
) -> TrainResult:
    """Train on preprocessed, augmented MNIST (+ `extra` feedback digits), save and evaluate.

    `extra` must already have gone through `to_mnist`; it is repeated FEEDBACK_REPEAT times.
    Validation metrics per epoch are on the MNIST test set. The model file is written to
    `workdir` (a fresh temporary folder by default; the caller removes it).
    """
    started = time.perf_counter()
    data = prepare_mnist(data_dir, limit)  # first: a missing dataset fails before TF loads
    import keras
    import tensorflow as tf

    epochs = epochs or DEFAULT_EPOCHS
    hp = {**DEFAULT_HPARAMS, "learning_rate": LEARNING_RATE, "lr_floor": LR_FLOOR,
          "batch_size": BATCH_SIZE, **(hparams or {})}
    aug = AugmentConfig()
    x_train, y_train, n_feedback = data.x_train, data.y_train, 0
    if extra is not None and len(extra[0]):
        n_feedback = len(extra[0])
        x_train = np.concatenate([x_train, np.repeat(extra[0], FEEDBACK_REPEAT, axis=0)])
        y_train = np.concatenate([y_train, np.repeat(np.asarray(extra[1], np.int64),
                                                     FEEDBACK_REPEAT)])
    batch = int(hp["batch_size"])
    steps = math.ceil(len(x_train) / batch)
    log.info("training on %d digits (%d MNIST + %d feedback x%d), testing on %d, %d epochs",
             len(x_train), len(data.x_train), n_feedback, FEEDBACK_REPEAT, len(data.x_test),
             epochs)

    keras.utils.set_random_seed(seed)
    model = compile_model(hp, steps * epochs)
    dataset = tf.data.Dataset.from_generator(
        lambda: augmented_batches(x_train, y_train, epochs, batch, seed, aug),
        output_signature=(tf.TensorSpec((None, 28, 28, 1), tf.float32),
                          tf.TensorSpec((None,), tf.int64)),
    ).prefetch(4)
    history: list[dict[str, float]] = []
    fit_started = time.perf_counter()
    model.fit(dataset, epochs=epochs, steps_per_epoch=steps, verbose=0, shuffle=False,
              validation_data=(_to_input(data.x_test), data.y_test),
              validation_batch_size=EVAL_BATCH,
              callbacks=_callbacks(epochs, steps, on_epoch, progress, history))
    train_seconds = time.perf_counter() - fit_started

    workdir = Path(workdir or tempfile.mkdtemp(prefix="digitflow-train-"))
    workdir.mkdir(parents=True, exist_ok=True)
    model_file = workdir / MODEL_FILE
    _save_inference_copy(model, hp, model_file)
    meta: dict[str, Any] = {
        "data": {"folder": data.source, "n_train": int(len(data.x_train)),
                 "n_feedback": n_feedback, "feedback_repeat": FEEDBACK_REPEAT,
                 "n_test": int(len(data.x_test)), "limit": limit,
                 "preprocessing": "shared.preprocess.to_mnist_batch"},
        "hyperparameters": {**hp, "optimizer": "adam", "lr_schedule": "cosine",
                            "augment": aug.as_dict(), "seed": seed},
        "epochs": epochs,
        "train_seconds": round(train_seconds, 1),
        "history": history,
        "history_note": "val_loss/val_accuracy per epoch are on the MNIST test set",
        "params": int(model.count_params()),
    }
    (workdir / META_FILE).write_text(json.dumps(meta, indent=2))
    accuracy, confusion = evaluate_model_dir(workdir, data.x_test, data.y_test)
    meta["test_accuracy"] = round(accuracy, 6)
    (workdir / META_FILE).write_text(json.dumps(meta, indent=2))
    seconds = time.perf_counter() - started
    log.info("test accuracy %.4f on %d images; trained in %.0fs (%.0fs in all)",
             accuracy, len(data.y_test), train_seconds, seconds)
    return TrainResult(model_file, accuracy, history, confusion, seconds, meta)


# ---------------------------------------------------------------- evaluate
def confusion_matrix(labels: np.ndarray, predicted: np.ndarray) -> np.ndarray:
    """10x10 counts, rows the true digit and columns the predicted one."""
    flat = np.asarray(labels, np.int64) * 10 + np.asarray(predicted, np.int64)
    return np.bincount(flat, minlength=100).reshape(10, 10)


def evaluate_classifier(classifier: Any, digits: np.ndarray,
                        labels: np.ndarray) -> tuple[float, np.ndarray]:
    """Accuracy and confusion of a `shared.classifier.Classifier`, in serving-sized batches."""
    predicted = np.concatenate(
        [classifier.predict(digits[i : i + EVAL_BATCH]).argmax(axis=1)
         for i in range(0, len(digits), EVAL_BATCH)]
        or [np.zeros(0, np.int64)]
    )
    accuracy = float((predicted == labels).mean()) if len(labels) else 0.0
    return accuracy, confusion_matrix(labels, predicted)


def evaluate_model_dir(model_dir: Path, digits: np.ndarray,
                       labels: np.ndarray) -> tuple[float, np.ndarray]:
    """Evaluate the saved files through Classifier: the exact path serving will take."""
    from shared.classifier import Classifier

    return evaluate_classifier(Classifier(model_dir), digits, labels)


# ---------------------------------------------------------------- publish
def gate_decision(store: ModelStore, accuracy: float, policy: str) -> tuple[str, str | None]:
    """Decide the status before publishing (versions are immutable): active/ready/rejected."""
    if policy == "never":
        return "ready", None
    if policy == "always":
        return "active", None
    if policy != "gate":
        raise ValueError(f"policy must be 'gate', 'always' or 'never', not {policy!r}")
    current = store.active()
    baseline = store.meta(current).get("test_accuracy") if current is not None else None
    if baseline is None:
        return "active", None
    if accuracy >= float(baseline) - GATE_TOLERANCE:
        return "active", None
    return "rejected", (f"test accuracy {accuracy:.2%} is more than 0.1 points below active "
                        f"version {current} ({float(baseline):.2%})")


def publish_with_gate(store: ModelStore, result: TrainResult,
                      policy: str = "gate") -> tuple[int, str, str | None]:
    """Publish `result` and activate it if the policy allows; returns (version, status, reason)."""
    status, reason = gate_decision(store, result.test_accuracy, policy)
    meta = {**result.meta, "test_accuracy": round(result.test_accuracy, 6), "status": status}
    if reason:
        meta["reason"] = reason
    version = store.publish(result.model_file, meta)
    if status == "active":
        store.activate(version)
    elif status == "rejected":
        log.warning("model version %d rejected: %s", version, reason)
    return version, status, reason
