"""The ONNX translation answers exactly as the Keras model does, and anything it does not
know falls back to TensorFlow instead of serving a wrong graph."""

from __future__ import annotations

import threading

import numpy as np
import pytest

from shared.classifier import Classifier
from shared.model_def import build_model, members_of
from shared.model_store import BUNDLED_DIR
from shared.onnx_graph import UnsupportedModel, onnx_session


def _digits(n: int, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 256, (n, 28, 28), dtype=np.uint8)


@pytest.mark.parametrize("hparams", [{"classes": 10, "members": 1},
                                     {"classes": 11, "members": 2}])
def test_the_graph_gives_the_keras_probabilities(hparams: dict) -> None:
    import keras

    keras.utils.set_random_seed(3)
    model = build_model(hparams)
    # non-trivial batch-norm statistics, so a wrong parameter order would show
    rng = np.random.default_rng(1)
    for layer in (layer for member in members_of(model) for layer in member.layers):
        if type(layer).__name__ == "BatchNormalization":
            g, b, m, v = layer.get_weights()
            layer.set_weights([g * rng.uniform(0.5, 2, g.shape), rng.normal(0, .3, b.shape),
                               rng.normal(0, .3, m.shape), rng.uniform(0.5, 2, v.shape)])
    x = _digits(16)
    want = model(x[..., None].astype(np.float32) / 255.0, training=False).numpy()
    got = onnx_session(model).run(None, {"digits": x})[0]
    assert got.shape == (16, hparams["classes"])
    np.testing.assert_allclose(got, want, atol=1e-5)


def test_the_bundled_model_is_served_by_onnx_runtime_with_the_same_answers() -> None:
    onnx = Classifier(BUNDLED_DIR)
    tf = Classifier(BUNDLED_DIR, runtime="tensorflow")
    assert (onnx.runtime, tf.runtime) == ("onnx", "tensorflow")
    for n in (1, 2, 7, 300):
        x = _digits(n, seed=n)
        np.testing.assert_allclose(onnx.raw(x), tf.raw(x), atol=1e-5)
        assert (onnx.score(x)[:, 11] == tf.score(x)[:, 11]).all()  # the same rejections
    # passes of 1-2 rows run on a one-thread session, larger ones on every core: same rows
    x = _digits(7, seed=7)
    np.testing.assert_allclose(np.concatenate([onnx.raw(x[:1]), onnx.raw(x[1:3])]),
                               onnx.raw(x)[:3], atol=1e-6)


@pytest.mark.parametrize("runtime", ["onnx", "tensorflow"])
def test_single_thread_passes_side_by_side_give_the_same_rows(runtime: str) -> None:
    """A worker's bulk lanes call `score(single_thread=True)` from several threads beside
    the live path's calls (ONNX Runtime takes them at once; TensorFlow one after another)."""
    clf = Classifier(BUNDLED_DIR, runtime=runtime)
    x = _digits(64, seed=5)
    want = clf.score(x)
    got: dict[int, np.ndarray] = {}

    def lane(i: int) -> None:
        for _ in range(3):
            got[i] = clf.score(x, single_thread=i % 2 == 0)

    threads = [threading.Thread(target=lane, args=(i,)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert sorted(got) == [0, 1, 2, 3]
    for rows in got.values():
        np.testing.assert_allclose(rows, want, atol=1e-6)


def test_an_unknown_layer_is_refused_and_tensorflow_serves(tmp_path) -> None:
    import keras

    from shared.model_store import META_FILE, MODEL_FILE

    model = keras.Sequential([keras.Input((28, 28, 1)), keras.layers.Conv2D(4, 3, padding="same"),
                              keras.layers.Flatten(), keras.layers.Dense(10, "softmax")])
    with pytest.raises(UnsupportedModel, match="padding"):
        onnx_session(model)
    uncentred = keras.Sequential([keras.Input((28, 28, 1)),
                                  keras.layers.BatchNormalization(center=False)])
    with pytest.raises(UnsupportedModel, match="batch norm"):
        onnx_session(uncentred)
    model.save(tmp_path / MODEL_FILE)
    (tmp_path / META_FILE).write_text("{}")
    assert Classifier(tmp_path).runtime == "tensorflow"
    with pytest.raises(UnsupportedModel):
        Classifier(tmp_path, runtime="onnx")
