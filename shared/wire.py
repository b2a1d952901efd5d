"""The compact form in which validated drawings travel on the queue.

The web process has already parsed and checked a drawing; re-sending it as a JSON list of
numbers would make every worker parse it again. Pixels travel as base64 uint8 bytes with
their shape (about 4x smaller, and decoded with one `frombuffer`); images travel as they came.
A worker still re-checks every field, because anything can be put on a queue.
"""

from __future__ import annotations

import base64
import binascii
from typing import Any

import numpy as np

from shared.preprocess import (
    MAX_SIDE,
    MIN_SIDE,
    InvalidInput,
    check_image,
    decode_payload,
    image_bytes_from_data_url,
    image_to_array,
    payload_field,
    pixels_to_array,
)


def image_item(raw: bytes) -> dict[str, Any]:
    """An image file's bytes as a payload item `{"image": data URL}` (PNG or JPEG alike)."""
    return {"image": "data:;base64," + base64.b64encode(raw).decode()}


def pack(item: dict[str, Any], ink: np.ndarray) -> dict[str, Any]:
    """Wire form of a validated item: packed pixels, or the image exactly as received."""
    if "image" in item:
        return {"image": item["image"]}
    u8 = np.clip(np.rint(ink), 0, 255).astype(np.uint8)
    return {"u8": base64.b64encode(u8.tobytes()).decode(), "shape": list(u8.shape)}


def checked(item: Any, allowed: set[str] = frozenset()) -> dict[str, Any]:
    """Validate an API item cheaply and return its wire form: each input is decoded once.

    Pixels are parsed here (JSON already made them numbers) and packed; an image gets only a
    header check here and is decoded by the worker, in bounded memory and time.
    """
    kind, value = payload_field(item, allowed)
    if kind == "image":
        check_image(image_bytes_from_data_url(value))
        return {"image": value}
    return pack({}, pixels_to_array(value))


def unpack(item: Any) -> np.ndarray:
    """Ink array of a wire item (or of a plain API payload, for direct task calls)."""
    if isinstance(item, dict) and "u8" in item:
        shape = item.get("shape")
        if (not isinstance(shape, list) or len(shape) != 2
                or not all(isinstance(s, int) and MIN_SIDE <= s <= MAX_SIDE for s in shape)):
            raise InvalidInput("packed pixels need a valid 'shape'")
        try:
            raw = base64.b64decode(item["u8"], validate=True)
        except (binascii.Error, ValueError, TypeError):
            raise InvalidInput("packed pixels are not valid base64") from None
        if len(raw) != shape[0] * shape[1]:
            raise InvalidInput("packed pixels do not match their shape")
        return np.frombuffer(raw, np.uint8).reshape(shape).astype(np.float32)
    if isinstance(item, dict) and set(item) == {"image"}:
        return image_to_array(image_bytes_from_data_url(item["image"]))
    return decode_payload(item)
