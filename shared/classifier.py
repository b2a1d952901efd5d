"""A loaded model version with a compiled forward pass: the only way digitflow runs a model.

(The answer's shape, `prediction_dict`, lives apart in `shared.prediction`: it is TF-free.)

`model.predict` costs ~47 ms per call here; a `tf.function` with a fixed signature costs
under 1 ms for one image and scales to batches. ONNX Runtime, on the same weights translated by
`shared.onnx_graph`, costs about a third of the `tf.function`'s CPU for one image (a live
frame) and less for batches too, so it serves every model it can translate; TensorFlow serves
the rest. Workers, the CLI, training's evaluation and benchmarks all come through here.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from pathlib import Path
from typing import Any

import numpy as np

from shared.calibration import Calibration, score_rows
from shared.model_def import scale_pixels
from shared.model_store import META_FILE, MODEL_FILE, ModelStore

ONE_THREAD_ROWS = 2  # passes of at most this many rows run on one ONNX Runtime thread

log = logging.getLogger(__name__)


class Classifier:
    """One model version, loaded and warmed up, mapping uint8 28x28 digits to probabilities
    (calibrated with the version's own temperature, `shared.calibration`)."""

    def __init__(self, model_dir: str | Path, version: int | None = None,
                 runtime: str = "auto") -> None:
        """`runtime`: "onnx", "tensorflow", or "auto" (ONNX Runtime where the model
        translates)."""
        import os

        os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
        import keras
        import tensorflow as tf

        started = time.perf_counter()
        model_dir = Path(model_dir)
        self.meta: dict[str, Any] = json.loads((model_dir / META_FILE).read_text())
        self.version = version if version is not None else self.meta.get("version")
        self.calibration = Calibration.from_meta(self.meta)
        self.model = keras.saving.load_model(model_dir / MODEL_FILE, compile=False)
        model = self.model

        @tf.function(input_signature=[tf.TensorSpec([None, 28, 28], tf.uint8)])
        def forward(x: tf.Tensor) -> tf.Tensor:
            x = scale_pixels(tf.cast(x, tf.float32)[..., None])
            return model(x, training=False)

        # One thread at a time enters the TensorFlow pass: a worker's bulk lanes and live path
        # call beside each other, which only ONNX Runtime's sessions are documented to take.
        serial = threading.Lock()

        def tf_forward(x: np.ndarray, single_thread: bool = False) -> np.ndarray:
            with serial:
                return forward(x).numpy()

        self._forward = tf_forward
        self.runtime = "tensorflow"
        if runtime != "tensorflow":
            self._use_onnx(runtime == "onnx")
        self.predict(np.zeros((1, 28, 28), np.uint8))  # trace and warm up before serving
        log.info("loaded model version %s from %s in %.2fs (%s)", self.version, model_dir,
                 time.perf_counter() - started, self.runtime)

    def _use_onnx(self, required: bool) -> None:
        """Serve through ONNX Runtime when the model translates; else keep TensorFlow."""
        from shared.onnx_graph import UnsupportedModel, onnx_session

        try:
            session = onnx_session(self.model)
            one_thread = onnx_session(self.model, threads=1)
        except (UnsupportedModel, ImportError) as exc:
            if required:
                raise
            log.info("ONNX Runtime cannot serve this model (%s): TensorFlow serves it", exc)
            return

        def forward(x: np.ndarray, single_thread: bool = False) -> np.ndarray:
            # A live frame is usually alone in its pass (or with one other). For 1-2 rows a
            # second thread saves 0.1-0.2 ms of wall time at 1.3-1.5x the CPU; from 4 rows on
            # it cuts the wall time by ~40% for ~1.1x. `bench/inference.py --onnx-threads`
            # Sessions take concurrent calls: bulk lanes (worker/batcher.py) ask for one
            # thread each and run side by side.
            chosen = one_thread if single_thread or len(x) <= ONE_THREAD_ROWS else session
            return chosen.run(None, {"digits": x})[0]

        self._forward = forward
        self.runtime = "onnx"

    @property
    def classes(self) -> int:
        """10, or 11 for a model with the "not a digit" class."""
        return int(self.model.outputs[0].shape[-1])

    def raw(self, digits: np.ndarray, single_thread: bool = False) -> np.ndarray:
        """The model's own softmax (n, classes), uncalibrated, in one forward pass;
        `single_thread`: on one ONNX Runtime thread (a bulk lane's pass)."""
        if len(digits) == 0:
            return np.zeros((0, self.classes), np.float32)
        return self._forward(np.ascontiguousarray(digits, dtype=np.uint8), single_thread)

    def score(self, digits: np.ndarray, single_thread: bool = False) -> np.ndarray:
        """Scored rows (n, 12): calibrated probabilities, confidence, rejection code."""
        return score_rows(self.raw(digits, single_thread), self.calibration)

    def predict(self, digits: np.ndarray) -> np.ndarray:
        """Calibrated digit probabilities (n, 10) for uint8 digits (n, 28, 28)."""
        return self.score(digits)[:, :10]


def load_classifier(store: ModelStore, version: int, cache_dir: str | Path) -> Classifier:
    """Fetch `version` from the store (into `cache_dir` if remote), load and warm it up."""
    return Classifier(store.fetch(version, cache_dir), version=version)
