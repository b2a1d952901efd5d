"""Augmentation: shapes and dtype, determinism, identity settings, stroke width and speed."""

from __future__ import annotations

import time

import numpy as np

from tests.utils.training_builders import bar_digits
from trainer.augment import AugmentConfig, augment_batch
from trainer.training import augmented_batches

IDENTITY = AugmentConfig(shift=0, rotate=0, scale_min=1, scale_max=1, shear=0, p_dilate=0,
                         p_erode=0)


def test_keeps_shape_and_dtype() -> None:
    images, _ = bar_digits(50)
    out = augment_batch(images, np.random.default_rng(0))
    assert out.shape == images.shape and out.dtype == np.uint8
    assert (out.reshape(50, -1).max(axis=1) > 0).all()  # no digit pushed out of the frame


def test_same_seed_same_output_and_images_actually_change() -> None:
    images, _ = bar_digits(20)
    a = augment_batch(images, np.random.default_rng(7))
    b = augment_batch(images, np.random.default_rng(7))
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, images)


def test_identity_settings_change_nothing() -> None:
    images, _ = bar_digits(10)
    np.testing.assert_array_equal(augment_batch(images, np.random.default_rng(0), IDENTITY),
                                  images)


def test_dilation_thickens_and_erosion_thins_strokes() -> None:
    images, _ = bar_digits(10)
    rng = np.random.default_rng(0)
    thick = augment_batch(images, rng, AugmentConfig(**{**IDENTITY.as_dict(), "p_dilate": 1.0}))
    thin = augment_batch(images, rng, AugmentConfig(**{**IDENTITY.as_dict(), "p_erode": 1.0}))
    ink = images.reshape(10, -1).sum(axis=1)
    assert (thick.reshape(10, -1).sum(axis=1) > ink).all()
    assert (thin.reshape(10, -1).sum(axis=1) < ink).all()


def test_empty_batch() -> None:
    assert augment_batch(np.zeros((0, 28, 28), np.uint8), np.random.default_rng(0)).shape == (
        0, 28, 28)


def test_fast_enough_for_a_whole_epoch_per_few_seconds() -> None:
    """60k images must fit in a few seconds; 10k in 5 s leaves room for a busy shared CPU."""
    images, _ = bar_digits(10_000)
    started = time.perf_counter()
    augment_batch(images, np.random.default_rng(0))
    assert time.perf_counter() - started < 5.0


def test_batches_cover_every_epoch_and_keep_labels_with_images() -> None:
    labels = np.arange(25) % 10
    images = np.repeat((labels * 20).astype(np.uint8)[:, None, None], 28, 1).repeat(28, 2)
    batches = list(augmented_batches(images, labels, epochs=3, batch_size=10, seed=0,
                                     cfg=IDENTITY))
    assert [len(y) for _, y in batches] == [10, 10, 5] * 3
    for x, y in batches:
        assert x.dtype == np.float32 and x.shape[1:] == (28, 28, 1)
        np.testing.assert_allclose(x[:, 0, 0, 0] * 255, y * 20, atol=1e-3)
    assert sorted(np.concatenate([y for _, y in batches[:3]])) == sorted(labels)
