"""USPS parsing, and its digits given to the model exactly as `digitflow predict` reads a PNG."""

from __future__ import annotations

import gzip
import io
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from shared.preprocess import image_to_array, to_mnist
from trainer.data.usps import (
    PNG_SIDE,
    TRAIN_FILE,
    UspsError,
    as_png_ink,
    load_usps,
    parse_usps,
    prepare_usps,
)


def _line(label: int, values: np.ndarray) -> str:
    return f"{label}.0000 " + " ".join(f"{v:.4f}" for v in values.ravel())


def _bar() -> np.ndarray:
    img = -np.ones((16, 16))
    img[2:14, 7:9] = 1.0
    return img


def test_parse_maps_minus_one_to_background_and_one_to_ink() -> None:
    ink, labels = parse_usps(_line(1, _bar()) + "\n")
    assert labels.tolist() == [1] and ink.shape == (1, 16, 16)
    assert ink[0, 0, 0] == 0.0 and ink[0, 5, 7] == 255.0


def test_parse_rejects_a_short_line() -> None:
    with pytest.raises(UspsError, match="257"):
        parse_usps("3.0 1 2 3\n")


def test_png_path_matches_predict_on_a_real_png() -> None:
    ink16 = (_bar() + 1.0) * 127.5
    ours = as_png_ink(ink16)
    grey = np.rint(255.0 - ours).astype(np.uint8)
    buf = io.BytesIO()
    Image.fromarray(grey, mode="L").save(buf, format="PNG")
    decoded = image_to_array(buf.getvalue())  # what `digitflow predict` does with the file
    assert ours.shape == (PNG_SIDE, PNG_SIDE)
    np.testing.assert_array_equal(decoded, ours)
    digit = to_mnist(decoded)
    assert digit is not None
    np.testing.assert_array_equal(prepare_usps(ink16[None], np.array([1]))[0][0], digit)


def test_load_from_a_folder(tmp_path: Path) -> None:
    with gzip.open(tmp_path / TRAIN_FILE, "wt") as fh:
        fh.write(_line(1, _bar()) + "\n" + _line(7, _bar()) + "\n")
    ink, labels = load_usps(tmp_path, "train")
    assert labels.tolist() == [1, 7]
    with pytest.raises(UspsError, match="zip.test.gz"):
        load_usps(tmp_path, "test")
