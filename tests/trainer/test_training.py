"""train_model on a tiny slice of MNIST, the preprocessing cache, and the publish gate."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from shared.model_store import ModelStore
from tests.utils.training_builders import bar_digits, fake_result, fake_split
from trainer import training


def test_one_epoch_on_300_images(mnist_dir: Path, tmp_path: Path) -> None:
    epochs_seen: list[tuple[int, int, dict]] = []
    extra = bar_digits(10)
    result = training.train_model(
        str(mnist_dir), epochs=1, limit=300, extra=extra, workdir=tmp_path, progress=False,
        on_epoch=lambda e, n, m: epochs_seen.append((e, n, m)),
    )
    assert result.model_file == tmp_path / "model.keras" and result.model_file.exists()
    assert result.model_file.stat().st_size < 5 * 1024 * 1024
    assert 0.0 <= result.test_accuracy <= 1.0
    assert result.confusion.shape == (10, 10) and result.confusion.sum() == 1000
    assert [(e, n) for e, n, _ in epochs_seen] == [(1, 1)]
    assert {"loss", "accuracy", "val_loss", "val_accuracy", "seconds"} <= set(epochs_seen[0][2])
    assert result.history == [{"epoch": 1, **epochs_seen[0][2]}]
    meta = result.meta
    assert meta["data"]["n_train"] == 300 and meta["data"]["n_feedback"] == 10
    assert meta["data"]["n_test"] == 1000 and meta["epochs"] == 1
    assert meta["test_accuracy"] == pytest.approx(result.test_accuracy, abs=1e-6)
    assert meta["hyperparameters"]["lr_schedule"] == "cosine"


def test_full_preprocessing_is_cached(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    data_dir = tmp_path / "mnist"
    data_dir.mkdir()
    (data_dir / "placeholder").write_text("x")
    calls: list[str] = []

    def fake_load(split: str, folder: object = None) -> object:
        calls.append(split)
        return fake_split(40 if split == "train" else 20)

    monkeypatch.setattr(training, "load_mnist", fake_load)
    first = training.prepare_mnist(str(data_dir), cache_dir=tmp_path / "cache")
    second = training.prepare_mnist(str(data_dir), cache_dir=tmp_path / "cache")
    assert calls == ["train", "test"]  # the second call read the .npz
    np.testing.assert_array_equal(first.x_train, second.x_train)
    assert first.x_train.shape == (40, 28, 28) and second.y_test.shape == (20,)


def test_confusion_matrix_counts() -> None:
    cm = training.confusion_matrix(np.array([1, 1, 2]), np.array([1, 7, 2]))
    assert cm[1, 1] == 1 and cm[1, 7] == 1 and cm[2, 2] == 1 and cm.sum() == 3


def test_gate_activates_first_and_comparable_models(tmp_path: Path) -> None:
    store = ModelStore(str(tmp_path / "store"))
    v1, status, reason = training.publish_with_gate(store, fake_result(tmp_path, 0.9950))
    assert (status, reason, store.active()) == ("active", None, v1)
    v2, status, _ = training.publish_with_gate(store, fake_result(tmp_path, 0.9941))
    assert status == "active" and store.active() == v2  # within 0.1 points


def test_gate_rejects_a_worse_model_before_publishing(tmp_path: Path) -> None:
    store = ModelStore(str(tmp_path / "store"))
    v1, _, _ = training.publish_with_gate(store, fake_result(tmp_path, 0.9950))
    v2, status, reason = training.publish_with_gate(store, fake_result(tmp_path, 0.9930))
    assert status == "rejected" and "0.1 points" in reason
    assert store.active() == v1
    assert store.meta(v2)["status"] == "rejected" and store.meta(v2)["reason"] == reason


def test_policies_always_and_never(tmp_path: Path) -> None:
    store = ModelStore(str(tmp_path / "store"))
    v1, _, _ = training.publish_with_gate(store, fake_result(tmp_path, 0.99), policy="always")
    v2, status, _ = training.publish_with_gate(store, fake_result(tmp_path, 0.999), "never")
    assert status == "ready" and store.active() == v1 and store.meta(v2)["status"] == "ready"
    v3, status, _ = training.publish_with_gate(store, fake_result(tmp_path, 0.5), "always")
    assert status == "active" and store.active() == v3
    with pytest.raises(ValueError):
        training.publish_with_gate(store, fake_result(tmp_path, 0.5), "sometimes")
