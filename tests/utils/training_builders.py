"""Builders for trainer tests: synthetic digits, fake MNIST splits and fake training results."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from shared.mnist import Split


def bar_digits(n: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Return n uint8 28x28 images of a thick vertical bar, labelled 0-9 in turn."""
    rng = np.random.default_rng(seed)
    images = np.zeros((n, 28, 28), np.uint8)
    for i in range(n):
        col = 10 + int(rng.integers(0, 8))
        images[i, 4:24, col : col + 3] = 255
    return images, (np.arange(n) % 10).astype(np.uint8)


def fake_split(n: int, seed: int = 0) -> Split:
    """Return a small MNIST-shaped split, for tests that must not read the real files."""
    images, labels = bar_digits(n, seed)
    return Split(images, labels)


def fake_result(tmp_path: Path, accuracy: float, name: str = "model",
                n: int = 10_000) -> object:
    """A TrainResult whose model file is a placeholder, scored `accuracy` on an MNIST-test-like
    set of n items: enough for store and gate tests."""
    from trainer.data.sets import LabelledSet
    from trainer.evaluate import SetScore
    from trainer.result import TrainResult

    model_file = tmp_path / f"{name}.keras"
    model_file.write_bytes(b"not a real model")
    score = SetScore("mnist_test", accuracy, n, np.zeros((10, 10), np.int64), np.zeros(n))
    meta = {"test_accuracy": accuracy, "epochs": 1, "data": {"n_feedback": 0},
            "sets": {"mnist_test": {"accuracy": accuracy, "n": n}}}
    sets = {"mnist_test": LabelledSet("mnist_test", np.zeros((n, 28, 28), np.uint8),
                                      np.zeros(n, np.int64))}
    return TrainResult(model_file, {"mnist_test": score}, [], 1.0, meta, sets)
