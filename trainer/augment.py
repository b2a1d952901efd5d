"""Random augmentation of preprocessed 28x28 uint8 digits, in numpy/scipy outside the TF graph.

Keras' random layers cost ~60 s an epoch on this CPU; one vectorised `map_coordinates` call per
chunk of images augments a 60k epoch in a few seconds, so it can run in a background thread
while the previous epoch trains. The perturbations mimic what separates real drawings from
MNIST after `shared.preprocess.to_mnist`: a slightly different position, size, slant and
stroke width.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np
from scipy import ndimage

SIDE = 28
CENTRE = (SIDE - 1) / 2.0
CHUNK = 4096  # images per map_coordinates call: bounds the float64 coordinate arrays (~80 MB)


@dataclass(frozen=True)
class AugmentConfig:
    """Ranges of the random perturbations; recorded in each model's meta.json."""

    shift: float = 2.0  # pixels, each axis, uniform in +-shift
    rotate: float = 12.0  # degrees, uniform in +-rotate
    scale_min: float = 0.85
    scale_max: float = 1.1
    shear: float = 0.1  # horizontal shear factor, uniform in +-shear
    p_dilate: float = 0.2  # chance of a 2x2 grey dilation (thicker stroke)
    p_erode: float = 0.15  # chance of a 2x2 grey erosion (thinner stroke)

    def as_dict(self) -> dict[str, float]:
        """Plain dict for JSON metadata."""
        return asdict(self)


def _inverse_matrices(n: int, cfg: AugmentConfig, rng: np.random.Generator) -> np.ndarray:
    """Per-image (2, 2) matrices mapping output (y, x) offsets back to input offsets."""
    theta = np.deg2rad(rng.uniform(-cfg.rotate, cfg.rotate, n))
    scale = rng.uniform(cfg.scale_min, cfg.scale_max, n)
    shear = rng.uniform(-cfg.shear, cfg.shear, n)
    cos, sin = np.cos(theta), np.sin(theta)
    # forward map in (y, x) order: shear (x += shear * y) @ rotation @ uniform scale
    fwd = np.empty((n, 2, 2))
    fwd[:, 0, 0] = cos * scale
    fwd[:, 0, 1] = -sin * scale
    fwd[:, 1, 0] = (sin + cos * shear) * scale
    fwd[:, 1, 1] = (cos - sin * shear) * scale
    return np.linalg.inv(fwd)


def affine_batch(images: np.ndarray, cfg: AugmentConfig, rng: np.random.Generator) -> np.ndarray:
    """Randomly rotate, scale, shear and shift every image (bilinear); returns float32."""
    n = len(images)
    inv = _inverse_matrices(n, cfg, rng)
    shift = rng.uniform(-cfg.shift, cfg.shift, (n, 2))
    yy, xx = np.mgrid[0:SIDE, 0:SIDE].reshape(2, -1) - CENTRE  # (2, 784) output offsets
    grid = np.stack([yy, xx])
    out = np.empty((n, SIDE, SIDE), np.float32)
    src = images.astype(np.float32, copy=False)
    for start in range(0, n, CHUNK):
        sl = slice(start, min(n, start + CHUNK))
        m = sl.stop - sl.start
        offsets = grid[None] - shift[sl, :, None]  # (m, 2, 784)
        coords_yx = np.einsum("nij,njk->nik", inv[sl], offsets) + CENTRE
        coords_z = np.broadcast_to(np.arange(m, dtype=np.float64)[:, None], (m, SIDE * SIDE))
        coords = np.stack([coords_z, coords_yx[:, 0], coords_yx[:, 1]])
        out[sl] = ndimage.map_coordinates(
            src[sl], coords.reshape(3, -1), order=1, mode="constant", cval=0.0
        ).reshape(m, SIDE, SIDE)
    return out


def stroke_batch(images: np.ndarray, cfg: AugmentConfig, rng: np.random.Generator) -> np.ndarray:
    """Thicken or thin a random subset of strokes with a 2x2 grey dilation or erosion."""
    out = images.copy()
    pick = rng.random(len(images))
    dilate = np.flatnonzero(pick < cfg.p_dilate)
    erode = np.flatnonzero((pick >= cfg.p_dilate) & (pick < cfg.p_dilate + cfg.p_erode))
    if dilate.size:
        out[dilate] = ndimage.grey_dilation(images[dilate], size=(1, 2, 2))
    if erode.size:
        out[erode] = ndimage.grey_erosion(images[erode], size=(1, 2, 2))
    return out


def augment_batch(
    images: np.ndarray, rng: np.random.Generator, cfg: AugmentConfig | None = None
) -> np.ndarray:
    """Return randomly perturbed copies of uint8 digits (n, 28, 28), as uint8."""
    if len(images) == 0:
        return images.copy()
    cfg = cfg or AugmentConfig()
    warped = affine_batch(stroke_batch(images, cfg, rng), cfg, rng)
    return np.clip(np.rint(warped), 0, 255).astype(np.uint8)
