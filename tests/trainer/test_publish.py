"""Publishing through the gate: the active version is scored on the new one's sets."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from shared.mnist import load_mnist
from shared.model_store import BUNDLED_DIR, ModelStore
from shared.preprocess import to_mnist_batch
from tests.utils.training_builders import fake_result
from trainer.data.sets import LabelledSet
from trainer.evaluate import SetScore, confusion_matrix
from trainer.publish import publish_with_gate, recorded_figures


def test_first_version_is_activated_and_comparable_ones_too(tmp_path: Path) -> None:
    store = ModelStore(str(tmp_path / "store"))
    v1, status, reason = publish_with_gate(store, fake_result(tmp_path, 0.9950), "gate", tmp_path)
    assert (status, reason, store.active()) == ("active", None, v1)
    # the placeholder model cannot load: the gate falls back to v1's recorded figures
    v2, status, _ = publish_with_gate(store, fake_result(tmp_path, 0.9940), "gate", tmp_path)
    assert status == "active" and store.active() == v2  # 0.1 points: within 0.19


def test_a_worse_version_is_rejected_and_says_why(tmp_path: Path) -> None:
    store = ModelStore(str(tmp_path / "store"))
    v1, _, _ = publish_with_gate(store, fake_result(tmp_path, 0.9950), "gate", tmp_path)
    v2, status, reason = publish_with_gate(store, fake_result(tmp_path, 0.9920), "gate", tmp_path)
    assert status == "rejected" and "mnist_test" in reason and "allowed" in reason
    assert store.active() == v1
    meta = store.meta(v2)
    assert meta["status"] == "rejected" and meta["reason"] == reason


def test_policies_always_and_never(tmp_path: Path) -> None:
    store = ModelStore(str(tmp_path / "store"))
    v1, _, _ = publish_with_gate(store, fake_result(tmp_path, 0.99), "always", tmp_path)
    v2, status, _ = publish_with_gate(store, fake_result(tmp_path, 0.999), "never", tmp_path)
    assert status == "ready" and store.active() == v1 and store.meta(v2)["status"] == "ready"
    v3, status, _ = publish_with_gate(store, fake_result(tmp_path, 0.5), "always", tmp_path)
    assert status == "active" and store.active() == v3
    with pytest.raises(ValueError):
        publish_with_gate(store, fake_result(tmp_path, 0.5), "sometimes", tmp_path)


def test_old_versions_gate_on_their_mnist_figure() -> None:
    assert recorded_figures({"test_accuracy": 0.9961}) == {"mnist_test": 0.9961}
    assert recorded_figures({"sets": {"usps_test": {"accuracy": 0.98, "n": 2007}}}) == {
        "usps_test": 0.98}


def _candidate(tmp_path: Path, data: LabelledSet, accuracy: float) -> object:
    """A result scored `accuracy` on `data` (the bundled files stand in for its model)."""
    result = fake_result(tmp_path, accuracy, n=len(data))
    wrong = int(round((1 - accuracy) * len(data)))
    predicted = data.y.copy()
    predicted[:wrong] = (predicted[:wrong] + 1) % 10
    result.scores = {"mnist_test": SetScore("mnist_test", accuracy, len(data),
                                            confusion_matrix(data.y, predicted), predicted)}
    result.eval_sets = {"mnist_test": data}
    return result


def test_the_active_model_is_scored_afresh_on_the_same_items(mnist_dir: Path,
                                                             tmp_path: Path) -> None:
    test = load_mnist("test", mnist_dir)
    digits, _ = to_mnist_batch(test.images[:400])
    data = LabelledSet("mnist_test", digits, test.labels[:400].astype(np.int64))
    store = ModelStore(str(tmp_path / "store"))
    store.ensure_seeded(BUNDLED_DIR)  # the bundled model, active: it reads these ~all right
    _, status, reason = publish_with_gate(store, _candidate(tmp_path, data, 0.90), "gate",
                                          tmp_path / "cache")
    assert status == "rejected" and "mnist_test: 90.00%" in reason
    version, status, _ = publish_with_gate(store, _candidate(tmp_path, data, 1.0), "gate",
                                           tmp_path / "cache")
    record = store.meta(version)["gate"]
    assert status == "active" and record["against_version"] == 1
    assert record["sets"]["mnist_test"]["active"] >= 0.98
    assert record["sets"]["mnist_test"]["tolerance"] > 0
