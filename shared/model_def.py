"""The CNN: four 3x3 convolutions, two poolings, one dense layer (about 200k parameters).

Small enough to train in minutes on two cores and to answer one image in under a millisecond,
yet above 99.4% on MNIST when trained on augmented, MNIST-style preprocessed digits.

`classes` is 10 (digits) or 11 (digits plus "not a digit", issue 12). With `members` > 1 the
model is an ensemble: that many CNNs side by side on the same input, their softmax outputs
averaged inside the one graph, so serving still makes one forward pass (issue 10 allows 2-3).
Training fits every member on its own loss (`training_view`), as independent models would be.
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
    "classes": 10,
    "members": 1,
}


def build_member(hp: dict[str, Any], name: str = "digitflow_cnn") -> Any:
    """One CNN: a `keras.Sequential` for 28x28x1 inputs scaled to 0..1, softmax output."""
    import keras
    from keras import layers

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
            layers.Dense(hp["classes"], activation="softmax"),
        ],
        name=name,
    )


def build_model(hparams: dict[str, Any] | None = None) -> Any:
    """Return an uncompiled model for 28x28x1 inputs scaled to 0..1: one CNN, or the
    average of `members` CNNs in one graph."""
    import keras

    hp = {**DEFAULT_HPARAMS, **(hparams or {})}
    if hp["members"] <= 1:
        return build_member(hp)
    inputs = keras.Input(shape=(28, 28, 1))
    outputs = [build_member(hp, f"member_{i}")(inputs) for i in range(hp["members"])]
    return keras.Model(inputs, keras.layers.Average(name="ensemble")(outputs),
                       name="digitflow_ensemble")


def members_of(model: Any) -> list[Any]:
    """The CNNs of a model: itself, or an ensemble's members in order."""
    subs = [layer for layer in model.layers if layer.name.startswith("member_")]
    return subs or [model]


def training_view(model: Any) -> Any:
    """The model to fit: an ensemble becomes one output per member (each trained on its
    own loss, sharing the ensemble's layers); a single CNN is itself."""
    import keras

    subs = members_of(model)
    if len(subs) == 1:
        return model
    return keras.Model(model.inputs, [m(model.inputs[0]) for m in subs],
                       name="digitflow_members")


def ensemble_from(models: list[Any], hparams: dict[str, Any] | None = None) -> Any:
    """A model of `hparams` (its `members` = len(models)) whose members start from trained
    CNNs of the same layer shapes. A 10-class CNN gets the 11th, "not a digit", output
    added: its column of the last kernel and its bias start at 0, so the digits' outputs
    and their ranking are unchanged until training teaches the new class."""
    hp = {**DEFAULT_HPARAMS, **(hparams or {}), "members": len(models)}
    model = build_model(hp)
    for member, source in zip(members_of(model), models, strict=True):
        weights = source.get_weights()
        kernel, bias = weights[-2], weights[-1]
        extra = hp["classes"] - kernel.shape[1]
        if extra > 0:
            import numpy as np

            kernel = np.concatenate([kernel, np.zeros((kernel.shape[0], extra), kernel.dtype)], 1)
            bias = np.concatenate([bias, np.zeros(extra, bias.dtype)])
        member.set_weights([*weights[:-2], kernel, bias])
    return model
