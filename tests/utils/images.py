"""Builders for test images: synthetic digit drawings, encoded files and data URLs."""

from __future__ import annotations

import base64
import io

import numpy as np
from PIL import Image, ImageDraw

# A "7"-like stroke path with a crossbar, in unit coordinates (x, y) of its bounding box.
SEVEN = [(0.0, 0.0), (1.0, 0.0), (0.35, 1.0)]
SEVEN_BAR = [(0.3, 0.55), (0.85, 0.55)]


def draw_strokes(
    size: tuple[int, int],
    box: tuple[int, int, int, int],
    strokes: tuple[list[tuple[float, float]], ...] = (SEVEN, SEVEN_BAR),
    width_frac: float = 0.12,
) -> np.ndarray:
    """Draw unit-coordinate polylines scaled into `box` (x0, y0, x1, y1); return ink-high uint8."""
    w, h = size
    x0, y0, x1, y1 = box
    width = max(1, round(width_frac * max(x1 - x0, y1 - y0)))
    pad = width / 2
    img = Image.new("L", (w, h), 0)
    draw = ImageDraw.Draw(img)
    for stroke in strokes:
        points = [
            (x0 + pad + u * (x1 - x0 - 2 * pad), y0 + pad + v * (y1 - y0 - 2 * pad))
            for u, v in stroke
        ]
        draw.line(points, fill=255, width=width, joint="curve")
    return np.asarray(img, dtype=np.uint8)


def ring(size: int, outer: float, inner: float) -> np.ndarray:
    """A centred, symmetric "0": an annulus of ink on a black `size` x `size` canvas."""
    yy, xx = np.mgrid[0:size, 0:size]
    centre = (size - 1) / 2
    r = np.hypot(yy - centre, xx - centre)
    return np.where((r <= outer) & (r >= inner), 255, 0).astype(np.uint8)


def place(canvas_size: int, digit: np.ndarray, top: int, left: int, scale: int = 1) -> np.ndarray:
    """Paste `digit` (upscaled by an integer `scale`) into a black square canvas at (top, left)."""
    big = np.kron(digit, np.ones((scale, scale), dtype=digit.dtype)) if scale > 1 else digit
    canvas = np.zeros((canvas_size, canvas_size), dtype=np.uint8)
    h, w = big.shape
    canvas[top : top + h, left : left + w] = big
    return canvas


def encode(img: Image.Image | np.ndarray, fmt: str = "PNG", **save_args: object) -> bytes:
    """Encode a PIL image (or a uint8 array, as grayscale) to file bytes in `fmt`."""
    if isinstance(img, np.ndarray):
        img = Image.fromarray(img.astype(np.uint8))
    buf = io.BytesIO()
    img.save(buf, format=fmt, **save_args)
    return buf.getvalue()


def data_url(raw: bytes, mime: str = "image/png") -> str:
    """Wrap file bytes in a base64 data URL, as a browser canvas' toDataURL gives."""
    return f"data:{mime};base64,{base64.b64encode(raw).decode('ascii')}"


def black_on_white(ink: np.ndarray) -> np.ndarray:
    """Invert ink-high pixels into a paint-program drawing: black strokes on white paper."""
    return (255 - ink.astype(np.int16)).astype(np.uint8)


def rgb(gray: np.ndarray) -> Image.Image:
    """A grayscale uint8 array as an RGB PIL image (what most paint programs save)."""
    return Image.fromarray(gray.astype(np.uint8)).convert("RGB")


def rgba_on_transparent(ink: np.ndarray, colour: tuple[int, int, int] = (0, 0, 0)) -> Image.Image:
    """Strokes of `colour` whose alpha is the ink, on a fully transparent background."""
    h, w = ink.shape
    arr = np.zeros((h, w, 4), dtype=np.uint8)
    arr[..., :3] = colour
    arr[..., 3] = ink
    return Image.fromarray(arr)
