"""The one preprocessing pipeline: any drawing or image -> an MNIST-style 28x28 digit.

Every path (CLI, live worker, batch chunks, training on MNIST and on feedback) calls this
module, so a model never sees input prepared differently from what it was trained on.
The steps are MNIST's own: crop to the ink's bounding box, fit into 20x20 keeping the aspect
ratio (with anti-aliasing), paste into 28x28 and move the centre of mass to the centre.
Nothing here imports TensorFlow: the web process uses it to validate input.
"""

from __future__ import annotations

import base64
import binascii
import io
import threading
import zlib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image, UnidentifiedImageError

from shared.fields import unknown_fields_error
from shared.image_decode import WORK_SIDE, UnsupportedImage, large_jpeg, large_png_ink

SIDE = 28
FIT = 20
MIN_SIDE = 8
MAX_SIDE = 1024
MAX_IMAGE_SIDE = 4096
MAX_IMAGE_BYTES = 8 * 1024 * 1024
MAX_CONCURRENT_DECODES = 2  # large-image decodes at once per process (each a few MB)
INK_LEVEL = 25.0  # a pixel below ~10% of full ink is background noise, not a stroke
CENTRE = (SIDE - 1) / 2.0


class InvalidInput(ValueError):
    """Input that cannot be a digit drawing; the message is shown to the user as-is."""


# threading's semaphore: gevent's monkey-patching (web tier) turns it into a cooperative one
_DECODE_SLOTS = threading.BoundedSemaphore(MAX_CONCURRENT_DECODES)


# ---------------------------------------------------------------- decoding and validation
def pixels_to_array(
    pixels: Any, min_side: int = MIN_SIDE, max_side: int = MAX_SIDE
) -> np.ndarray:
    """Validate a 2-D list of 0-255 ink-high numbers and return it as float32."""
    if isinstance(pixels, np.ndarray):
        arr = pixels
    else:
        if not isinstance(pixels, list) or not pixels or not isinstance(pixels[0], list):
            raise InvalidInput("pixels must be a 2-D array: a non-empty list of rows")
        if len(pixels) > max_side or len(pixels[0]) > max_side:
            raise InvalidInput(f"pixels is too large: at most {max_side}x{max_side}")
        try:
            arr = np.asarray(pixels)  # no dtype: strings and None must not parse as numbers
        except (ValueError, TypeError):
            raise InvalidInput(
                "pixels rows must all have the same length and hold only numbers"
            ) from None
    if arr.ndim != 2:
        raise InvalidInput(f"pixels must be 2-D (rows of numbers), got {arr.ndim} dimensions")
    h, w = arr.shape
    if not (min_side <= h <= max_side and min_side <= w <= max_side):
        raise InvalidInput(
            f"pixels must be between {min_side}x{min_side} and {max_side}x{max_side}, got {h}x{w}"
        )
    if arr.dtype.kind not in "fiu":
        raise InvalidInput("pixels must hold only numbers")
    arr = arr.astype(np.float32, copy=False)
    if not np.isfinite(arr).all():
        raise InvalidInput("pixels contains NaN, infinity or a non-number")
    if arr.min() < 0 or arr.max() > 255:
        raise InvalidInput("pixels values must lie between 0 and 255 (ink high, background 0)")
    return arr


def image_bytes_from_data_url(data: Any, max_bytes: int = MAX_IMAGE_BYTES) -> bytes:
    """Decode a `data:image/...;base64,` URL (or bare base64) to bytes."""
    if not isinstance(data, str):
        raise InvalidInput("image must be a data URL string (data:image/png;base64,...)")
    if len(data) > max_bytes * 4 // 3 + 100:
        raise InvalidInput(f"image is too large: at most {max_bytes // 1024} KiB")
    if data.startswith("data:"):
        header, _, data = data.partition(",")
        if ";base64" not in header:
            raise InvalidInput("image data URL must be base64-encoded")
    try:
        return base64.b64decode(data, validate=True)
    except (binascii.Error, ValueError):
        raise InvalidInput("image is not valid base64") from None


def _open_checked(raw: bytes, max_side: int) -> Image.Image:
    """Open (header only, nothing decoded yet) and check format and size."""
    if not raw:
        raise InvalidInput("image is empty")
    img = Image.open(io.BytesIO(raw))
    if img.format not in ("PNG", "JPEG"):
        raise InvalidInput(f"image must be PNG or JPEG, got {img.format}")
    w, h = img.size
    if w > max_side or h > max_side:
        raise InvalidInput(f"image is too large: at most {max_side}x{max_side}, got {w}x{h}")
    if w < MIN_SIDE or h < MIN_SIDE:
        raise InvalidInput(f"image is too small: at least {MIN_SIDE}x{MIN_SIDE}, got {w}x{h}")
    return img


_CORRUPT = (UnidentifiedImageError, OSError, SyntaxError, ValueError,
            Image.DecompressionBombError, zlib.error)


def check_image(raw: bytes, max_side: int = MAX_IMAGE_SIDE) -> None:
    """Cheap check of PNG/JPEG bytes (format, size, from the header): microseconds, no decode.

    The web process calls this instead of decoding, so each image is decoded once, by the
    worker (a corrupt body past a valid header is reported there, as an `error` answer).
    """
    try:
        _open_checked(raw, max_side)
    except InvalidInput:
        raise
    except _CORRUPT:
        raise InvalidInput("image is corrupt or not a PNG/JPEG") from None


def image_to_array(raw: bytes, max_side: int = MAX_IMAGE_SIDE) -> np.ndarray:
    """Decode PNG/JPEG bytes to ink-high float32, detecting the polarity of the drawing.

    The cost is bounded whatever the input: images larger than WORK_SIDE are reduced while
    they are decoded (see shared/image_decode.py), and at most MAX_CONCURRENT_DECODES of them
    run at once per process, so a burst of heavy images queues instead of multiplying the
    memory, while canvas-sized frames never wait behind them.
    """
    try:
        img = _open_checked(raw, max_side)
        if max(img.size) <= WORK_SIDE:  # a canvas-sized image: cheap, never waits for a slot
            img.load()
            return _ink_from_image(img)
        with _DECODE_SLOTS:
            if img.format == "PNG":
                return large_png_ink(raw, img)
            return _ink_from_image(large_jpeg(img))
    except InvalidInput:
        raise
    except UnsupportedImage as exc:
        raise InvalidInput(str(exc)) from None
    except _CORRUPT:
        raise InvalidInput("image is corrupt or not a PNG/JPEG") from None


def _ink_from_image(img: Image.Image) -> np.ndarray:
    """Turn any PIL image into ink-high float32, whatever its polarity or transparency."""
    if img.mode in ("RGBA", "LA", "PA") or (img.mode == "P" and "transparency" in img.info):
        rgba = np.asarray(img.convert("RGBA"), dtype=np.float32)
        alpha = rgba[..., 3]
        if alpha.min() < 250:  # strokes on a transparent background: the alpha is the ink
            return alpha
    gray = np.asarray(img.convert("L"), dtype=np.float32)
    return 255.0 - gray if looks_dark_on_light(gray) else gray


def looks_dark_on_light(gray: np.ndarray) -> bool:
    """Guess polarity from the border, which is background in any sensible drawing."""
    border = np.concatenate([gray[0], gray[-1], gray[:, 0], gray[:, -1]])
    return float(np.median(border)) > 127.0


def payload_field(payload: Any, allowed: set[str] = frozenset()) -> tuple[str, Any]:
    """Check a JSON item's shape: ("pixels" or "image", its value)."""
    if not isinstance(payload, Mapping):
        raise InvalidInput("expected a JSON object with 'pixels' or 'image'")
    problem = unknown_fields_error(payload, {"pixels", "image", *allowed})
    if problem:
        raise InvalidInput(problem)
    has_pixels, has_image = "pixels" in payload, "image" in payload
    if has_pixels == has_image:
        raise InvalidInput("give exactly one of 'pixels' or 'image'")
    return ("pixels", payload["pixels"]) if has_pixels else ("image", payload["image"])


def decode_payload(payload: Any, allowed: set[str] = frozenset()) -> np.ndarray:
    """Validate a JSON item `{"pixels": ...}` or `{"image": ...}` and return its ink array."""
    kind, value = payload_field(payload, allowed)
    if kind == "pixels":
        return pixels_to_array(value)
    return image_to_array(image_bytes_from_data_url(value))


def load_file(path: str | Path) -> np.ndarray:
    """Read a PNG, JPEG or .npy file from disk as an ink-high array."""
    path = Path(path)
    try:
        if path.suffix.lower() == ".npy":
            return pixels_to_array(np.load(path, allow_pickle=False))
        return image_to_array(path.read_bytes())
    except OSError as exc:
        raise InvalidInput(f"cannot read {path}: {exc.strerror or exc}") from None
    except ValueError as exc:
        if isinstance(exc, InvalidInput):
            raise
        raise InvalidInput(f"{path} is not a valid .npy array: {exc}") from None


# ---------------------------------------------------------------- MNIST-style normalisation
def to_mnist(ink: np.ndarray) -> np.ndarray | None:
    """Return the MNIST-style 28x28 uint8 digit, or None when nothing is drawn."""
    mask = ink > INK_LEVEL
    rows, cols = np.flatnonzero(mask.any(axis=1)), np.flatnonzero(mask.any(axis=0))
    if rows.size == 0:
        return None
    crop = ink[rows[0] : rows[-1] + 1, cols[0] : cols[-1] + 1]
    crop = np.where(crop > INK_LEVEL, crop, 0.0)  # faint haze inside the box is not ink either
    h, w = crop.shape
    scale = FIT / max(h, w)
    nh, nw = max(1, round(h * scale)), max(1, round(w * scale))
    if (nh, nw) != (h, w):
        fitted = np.asarray(
            Image.fromarray(crop.astype(np.float32), mode="F").resize(
                (nw, nh), Image.Resampling.LANCZOS
            )
        )
    else:
        fitted = crop.astype(np.float32)
    fitted = np.clip(fitted, 0.0, None)
    peak = float(fitted.max())
    if peak <= 0.0:
        return None
    fitted *= 255.0 / peak  # faint pencil and thin strokes alike end up at full ink
    top, left = _centred_origin(fitted, nh, nw)
    out = np.zeros((SIDE, SIDE), dtype=np.uint8)
    out[top : top + nh, left : left + nw] = np.minimum(np.rint(fitted), 255.0)
    return out


def _centred_origin(fitted: np.ndarray, nh: int, nw: int) -> tuple[int, int]:
    """Where to paste the fitted digit so its centre of mass lands on the centre (whole
    pixels, as MNIST did), without pushing ink out of the 28x28 frame."""
    total = float(fitted.sum())
    cy = float(fitted.sum(axis=1) @ np.arange(nh)) / total
    cx = float(fitted.sum(axis=0) @ np.arange(nw)) / total
    top = min(max(round(CENTRE - cy), 0), SIDE - nh)
    left = min(max(round(CENTRE - cx), 0), SIDE - nw)
    return top, left


def to_mnist_batch(images: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Preprocess a stack of images; returns (digits uint8 [n,28,28], empty mask [n])."""
    out = np.zeros((len(images), SIDE, SIDE), dtype=np.uint8)
    empty = np.zeros(len(images), dtype=bool)
    for i, img in enumerate(images):
        digit = to_mnist(np.asarray(img, dtype=np.float32))
        if digit is None:
            empty[i] = True
        else:
            out[i] = digit
    return out, empty
