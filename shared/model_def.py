"""The CNN: four 3x3 convolutions, two poolings, one dense layer (about 200k parameters).

Small enough to train in minutes on two cores and to answer one image in under a millisecond,
yet above 99.4% on MNIST when trained on augmented, MNIST-style preprocessed digits.
"""

from __future__ import annotations

from typing import Any

PIXEL_SCALE = 1.0 / 255.0


def scale_pixels(x: Any) -> Any:
    """0..255 float pixels -> the model's 0..1 input. The one place the scale lives: training
    (numpy) and `shared.classifier` (a TensorFlow tensor) both call it."""
    return x * PIXEL_SCALE


DEFAULT_HPARAMS: dict[str, Any] = {
    "filters": [32, 32, 64, 64],
    "dense": 128,
    "dropout": 0.25,
    "dense_dropout": 0.4,
    # Keras' default 0.99 leaves 0.99**steps of the initial moving variance (1.0) in place: after
    # one epoch (469 steps) that is still 3x the real conv1 variance and test accuracy drops to
    # ~87%. 0.95 forgets it within ~150 steps, so short retrains are served correctly too.
    "bn_momentum": 0.95,
}


def build_model(hparams: dict[str, Any] | None = None) -> Any:
    """Return an uncompiled `keras.Sequential` for 28x28x1 inputs scaled to 0..1."""
    import keras
    from keras import layers

    hp = {**DEFAULT_HPARAMS, **(hparams or {})}
    f1, f2, f3, f4 = hp["filters"]
    return keras.Sequential(
        [
            keras.Input(shape=(28, 28, 1)),
            layers.Conv2D(f1, 3, activation="relu"),
            layers.BatchNormalization(momentum=hp["bn_momentum"]),
            layers.Conv2D(f2, 3, activation="relu"),
            layers.BatchNormalization(momentum=hp["bn_momentum"]),
            layers.MaxPooling2D(),
            layers.Dropout(hp["dropout"]),
            layers.Conv2D(f3, 3, activation="relu"),
            layers.BatchNormalization(momentum=hp["bn_momentum"]),
            layers.Conv2D(f4, 3, activation="relu"),
            layers.BatchNormalization(momentum=hp["bn_momentum"]),
            layers.MaxPooling2D(),
            layers.Dropout(hp["dropout"]),
            layers.Flatten(),
            layers.Dense(hp["dense"], activation="relu"),
            layers.Dropout(hp["dense_dropout"]),
            layers.Dense(10, activation="softmax"),
        ],
        name="digitflow_cnn",
    )
