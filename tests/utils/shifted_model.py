"""A real model version that disagrees on purpose: the bundled model with its digit outputs
rotated by one (it answers d+1 where the bundled one answers d), for shadow-mode tests."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from shared.model_store import BUNDLED_DIR, MODEL_FILE


def shifted_model_file(out_dir: Path) -> Path:
    """Save the bundled model followed by a fixed permutation layer; returns the file."""
    import keras

    bundled = keras.saving.load_model(BUNDLED_DIR / MODEL_FILE, compile=False)
    classes = int(bundled.outputs[0].shape[-1])
    perm = np.zeros((classes, classes), np.float32)
    for d in range(classes):  # digit d's probability goes to output (d+1) % 10
        perm[d, (d + 1) % 10 if d < 10 else d] = 1.0
    inputs = keras.Input(shape=bundled.inputs[0].shape[1:])
    rotate = keras.layers.Dense(classes, use_bias=False, trainable=False, name="rotate")
    outputs = rotate(bundled(inputs))
    rotate.set_weights([perm])
    model = keras.Model(inputs, outputs)
    path = out_dir / "shifted.keras"
    model.save(path)
    return path
