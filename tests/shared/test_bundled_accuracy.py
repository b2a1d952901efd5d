"""The bundled default model must reach 99.4% on the full, preprocessed MNIST test set."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from shared.classifier import Classifier
from shared.mnist import load_mnist
from shared.model_store import BUNDLED_DIR, META_FILE, MODEL_FILE
from shared.preprocess import to_mnist_batch

TARGET = 0.994


def test_bundled_model_is_small_and_described() -> None:
    assert (BUNDLED_DIR / MODEL_FILE).stat().st_size <= 5 * 1024 * 1024
    meta = json.loads((BUNDLED_DIR / META_FILE).read_text())
    assert meta["test_accuracy"] >= TARGET and meta["data"]["n_test"] == 10_000


def test_bundled_model_accuracy_on_full_mnist_test(mnist_dir: Path) -> None:
    test = load_mnist("test", mnist_dir)
    digits, empty = to_mnist_batch(test.images)  # exactly what serving does to a drawing
    assert not empty.any()
    classifier = Classifier(BUNDLED_DIR)
    predicted = np.concatenate([classifier.predict(digits[i : i + 500]).argmax(axis=1)
                                for i in range(0, len(digits), 500)])
    accuracy = float((predicted == test.labels).mean())
    assert len(predicted) == 10_000
    assert accuracy >= TARGET, f"bundled model: {accuracy:.2%} < {TARGET:.1%}"
