"""Numpy/scipy augmentation: shapes, seeding, speed, and each failure mode of issue 10."""

from __future__ import annotations

import numpy as np

from tests.utils.training_builders import bar_digits
from trainer.augment import (
    REAL_WRITING,
    AugmentConfig,
    augment_batch,
    binarise_batch,
    elastic_offsets,
    lowres_round_trip,
    stretch_to_fill,
    stroke_batch,
    thin_strokes,
)
from trainer.feeding import augmented_epochs

IDENTITY = AugmentConfig(shift=0, rotate=0, scale_min=1, scale_max=1, shear=0, p_dilate=0,
                         p_erode=0)
ONLY = dict(shift=0, rotate=0, scale_min=1, scale_max=1, shear=0, p_dilate=0, p_erode=0)


def _ink_pixels(images: np.ndarray) -> float:
    return float((images > 127).sum())


def test_keeps_shape_and_dtype() -> None:
    images, _ = bar_digits(64)
    out = augment_batch(images, np.random.default_rng(0), REAL_WRITING)
    assert out.shape == images.shape and out.dtype == np.uint8


def test_same_seed_same_output_and_images_actually_change() -> None:
    images, _ = bar_digits(64)
    a = augment_batch(images, np.random.default_rng(7), REAL_WRITING)
    b = augment_batch(images, np.random.default_rng(7), REAL_WRITING)
    np.testing.assert_array_equal(a, b)
    assert (a != images).any(axis=(1, 2)).mean() > 0.9


def test_identity_settings_change_nothing() -> None:
    images, _ = bar_digits(16)
    np.testing.assert_array_equal(augment_batch(images, np.random.default_rng(0), IDENTITY),
                                  images)


def test_stroke_width_thick_and_thin() -> None:
    images, _ = bar_digits(8)
    thick = stroke_batch(images, AugmentConfig(**{**ONLY, "p_thick": 1.0}),
                         np.random.default_rng(0))
    assert _ink_pixels(thick) > 1.5 * _ink_pixels(images)
    thin = thin_strokes(images)
    assert 0 < _ink_pixels(thin) < 0.8 * _ink_pixels(images)
    assert thin.max() == 255  # a thin stroke is still full ink, as to_mnist makes it


def test_binarise_leaves_only_0_and_255() -> None:
    images, _ = bar_digits(8)
    soft = (images // 2 + 40).astype(np.uint8)
    out = binarise_batch(soft, AugmentConfig(p_binary=1.0), np.random.default_rng(0))
    assert set(np.unique(out)) <= {0, 255}


def test_lowres_round_trip_is_blocky_but_still_the_digit() -> None:
    images, _ = bar_digits(1)
    for side in (16, 32):
        out = lowres_round_trip(images[0], side, binary=True)
        assert out.shape == (28, 28) and out.max() == 255
        assert abs(np.argwhere(out > 127)[:, 1].mean() - 13.5) < 2  # still centred


def test_stretch_widens_a_narrow_digit_but_not_a_one() -> None:
    wide = np.zeros((28, 28), np.uint8)
    wide[4:24, 10:18] = 255  # 20 tall, 8 wide (aspect 0.4)
    stretched = stretch_to_fill(wide, 1.0)
    cols = np.flatnonzero(stretched.max(axis=0) > 127)
    assert cols.size >= 16
    one = np.zeros((28, 28), np.uint8)
    one[4:24, 13:16] = 255
    np.testing.assert_array_equal(stretch_to_fill(one, 1.0), one)


def test_elastic_offsets_are_smooth_and_a_few_pixels() -> None:
    field = elastic_offsets(50, 34.0, 4.0, np.random.default_rng(0)).reshape(50, 2, 28, 28)
    assert 0.2 < np.abs(field).max(axis=(1, 2, 3)).mean() < 6.0
    # neighbours move together: a step between pixels is a fraction of the displacement
    assert np.abs(np.diff(field, axis=3)).mean() < 0.4 * np.abs(field).mean()


def test_epochs_cover_every_item_shuffled_and_keep_labels_with_images() -> None:
    images, labels = bar_digits(50)
    images[:, 0, 0] = np.arange(50)  # tag each image so we can track it
    seen = []
    orders = []
    for x, y in augmented_epochs(lambda _e: (images, labels), epochs=2, seed=1, cfg=IDENTITY):
        assert x.dtype == np.float32 and x.shape[1:] == (28, 28, 1) and x.max() <= 1.0
        tags = np.rint(x[:, 0, 0, 0] * 255).astype(int)
        np.testing.assert_array_equal(y, labels[tags])
        seen.extend(tags.tolist())
        orders.append(tags.tolist())
    assert sorted(seen) == sorted(list(range(50)) * 2)
    assert orders[0] != orders[1] and list(range(50)) not in orders  # each its own order
