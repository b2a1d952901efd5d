"""`digitflow train` and `digitflow eval`: thin wrappers that print what trainer.training does.

User errors (no dataset, unknown version) print one line to stderr and exit with status 2;
TensorFlow is only imported once the command actually needs it.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

import numpy as np

USAGE_ERROR = 2


def _fail(message: str) -> int:
    """Print a one-line error and return the usage-error exit code."""
    print(f"digitflow: error: {message}", file=sys.stderr)
    return USAGE_ERROR


def format_confusion(confusion: np.ndarray) -> str:
    """Render a 10x10 confusion matrix as text, rows true and columns predicted."""
    lines = ["true\\pred" + "".join(f"{d:>6}" for d in range(10)) + "  recall"]
    for digit, row in enumerate(confusion):
        total = int(row.sum())
        recall = f"{row[digit] / total:8.2%}" if total else "       -"
        lines.append(f"{digit:>9}" + "".join(f"{int(c):>6}" for c in row) + recall)
    return "\n".join(lines)


def train(data: str | None, epochs: int | None, limit: int | None, out: str,
          activate: str = "gate") -> int:
    """Train with a progress bar, publish through the accuracy gate, and save the plots."""
    from shared.mnist import DatasetError
    from shared.model_store import ModelStore
    from shared.settings import get_settings
    from trainer.plots import plot_confusion, plot_history
    from trainer.training import publish_with_gate, train_model

    settings = get_settings()
    data = data or settings.mnist_dir
    store = ModelStore(settings.model_store)
    try:
        with tempfile.TemporaryDirectory(prefix="digitflow-train-") as workdir:
            result = train_model(data, epochs=epochs, limit=limit, workdir=Path(workdir),
                                 progress=True)
            version, status, reason = publish_with_gate(store, result, activate)
    except DatasetError as exc:
        return _fail(str(exc))
    n_test = result.meta["data"]["n_test"]
    out_dir = Path(out)
    curves = plot_history(result.history, out_dir / f"v{version}-training.png",
                          title=f"model version {version}")
    confusion = plot_confusion(result.confusion, out_dir / f"v{version}-confusion.png",
                               title=f"version {version}: {result.test_accuracy:.2%} "
                                     f"on {n_test} MNIST test digits")
    print(f"test accuracy: {result.test_accuracy:.2%} on {n_test} preprocessed MNIST test digits"
          f" (trained {result.meta['epochs']} epochs in {result.meta['train_seconds']:.0f}s)")
    print(f"plots: {curves} {confusion}")
    print(f"published version {version} to {store.url}: {status}"
          + (f" ({reason})" if reason else ""))
    return 0


def evaluate(data: str | None, version: int | None, out: str) -> int:
    """Score a stored version (default: active) on the preprocessed MNIST test set."""
    from shared.mnist import DatasetError
    from shared.model_store import ModelStore, StoreError
    from shared.settings import get_settings
    from trainer.plots import plot_confusion
    from trainer.training import prepare_mnist

    settings = get_settings()
    data = data or settings.mnist_dir
    try:
        digits = prepare_mnist(data)
    except DatasetError as exc:
        return _fail(str(exc))
    store = ModelStore(settings.model_store)
    from shared.classifier import load_classifier
    from trainer.training import evaluate_classifier

    try:
        version = version if version is not None else store.ensure_seeded()
        model = load_classifier(store, version, settings.model_cache)
    except StoreError as exc:
        return _fail(str(exc))
    accuracy, confusion = evaluate_classifier(model, digits.x_test, digits.y_test)
    n_test = len(digits.y_test)
    png = plot_confusion(confusion, Path(out) / f"eval-v{version}-confusion.png",
                         title=f"version {version}: {accuracy:.2%} on {n_test} MNIST test digits")
    print(f"model version {version}: accuracy {accuracy:.2%} on {n_test} preprocessed MNIST "
          f"test digits ({int(confusion.sum() - np.trace(confusion))} errors)")
    print(format_confusion(confusion))
    print(f"confusion matrix: {png}")
    return 0
