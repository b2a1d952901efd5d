"""Unit tests for shared.preprocess: validation, image decoding and MNIST-style normalisation."""

from __future__ import annotations

import base64
import math
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from shared.preprocess import (
    FIT,
    INK_LEVEL,
    SIDE,
    InvalidInput,
    decode_payload,
    image_bytes_from_data_url,
    image_to_array,
    load_file,
    pixels_to_array,
    to_mnist,
    to_mnist_batch,
)
from tests.utils.images import (
    black_on_white,
    data_url,
    draw_strokes,
    encode,
    place,
    rgb,
    rgba_on_transparent,
    ring,
)

CENTRE = (SIDE - 1) / 2


def bbox(digit: np.ndarray) -> tuple[int, int, int, int]:
    """Return (top, bottom, left, right) of the non-zero pixels, inclusive."""
    rows, cols = np.flatnonzero(digit.any(axis=1)), np.flatnonzero(digit.any(axis=0))
    return int(rows[0]), int(rows[-1]), int(cols[0]), int(cols[-1])


def centre_of_mass(digit: np.ndarray) -> tuple[float, float]:
    """Return the (row, col) centre of mass of an ink-high image."""
    yy, xx = np.mgrid[0 : digit.shape[0], 0 : digit.shape[1]]
    total = float(digit.sum())
    return float((digit * yy).sum()) / total, float((digit * xx).sum()) / total


def correlation(a: np.ndarray, b: np.ndarray) -> float:
    """Return Pearson's correlation of two images' pixels."""
    return float(np.corrcoef(a.ravel().astype(float), b.ravel().astype(float))[0, 1])


def seven(size: int = 200, box: tuple[int, int, int, int] = (40, 30, 160, 180)) -> np.ndarray:
    """Return a "7" drawn white-on-black into `box` of a `size` x `size` canvas."""
    return draw_strokes((size, size), box)


# ---------------------------------------------------------------- pixels validation
def _grid(h: int, w: int, value: object = 0) -> list[list[object]]:
    return [[value] * w for _ in range(h)]


def _with(h: int, w: int, value: object) -> list[list[object]]:
    grid = _grid(h, w)
    grid[3][4] = value
    return grid


@pytest.mark.parametrize(
    ("pixels", "match"),
    [
        pytest.param([0] * 64, "2-D", id="1-D"),
        pytest.param([_grid(8, 8)] * 8, "2-D", id="3-D"),
        pytest.param([[0] * 8] * 7 + [[0] * 9], "same length", id="ragged-rows"),
        pytest.param([[0] * 8] * 7 + [5], "same length", id="row-is-a-number"),
        pytest.param(_grid(7, 7), "between 8x8 and 1024x1024, got 7x7", id="7x7"),
        pytest.param(_grid(8, 7), "got 8x7", id="8x7"),
        pytest.param(_grid(1025, 10), "too large", id="1025x10"),
        pytest.param(_grid(10, 1025), "too large", id="10x1025"),
        pytest.param(_with(8, 8, float("nan")), "NaN", id="nan"),
        pytest.param(_with(8, 8, float("inf")), "infinity", id="inf"),
        pytest.param(_with(8, 8, float("-inf")), "infinity", id="-inf"),
        pytest.param(_with(8, 8, "ink"), "only numbers", id="string"),
        pytest.param(_with(8, 8, None), "number", id="None"),
        pytest.param(_with(8, 8, [1, 2]), "only numbers", id="nested-list"),
        pytest.param(_with(8, 8, {"v": 1}), "only numbers", id="dict-cell"),
        pytest.param(_with(8, 8, -1), "between 0 and 255", id="negative"),
        pytest.param(_with(8, 8, 256), "between 0 and 255", id="above-255"),
        pytest.param(_with(8, 8, 255.5), "between 0 and 255", id="above-255-float"),
        pytest.param("0" * 64, "2-D", id="string-not-list"),
        pytest.param({"rows": _grid(8, 8)}, "2-D", id="dict"),
        pytest.param(42, "2-D", id="number"),
        pytest.param(None, "2-D", id="None-not-list"),
        pytest.param([], "non-empty", id="empty-list"),
        pytest.param([[]], "got 1x0", id="empty-row"),
    ],
)
def test_pixels_rejects_bad_input_with_a_helpful_message(pixels: object, match: str) -> None:
    with pytest.raises(InvalidInput, match=match):
        pixels_to_array(pixels)


def test_pixels_message_names_the_allowed_range() -> None:
    with pytest.raises(InvalidInput) as err:
        pixels_to_array(_grid(7, 7))
    assert "8x8" in str(err.value) and "1024x1024" in str(err.value)


def test_numeric_strings_inside_pixels_are_rejected() -> None:
    """BUG: np.asarray(..., float32) silently parses "12" as 12.0, so strings get through."""
    with pytest.raises(InvalidInput, match="numbers"):
        pixels_to_array(_with(8, 8, "12"))


@pytest.mark.parametrize(("h", "w"), [(8, 8), (8, 1024), (1024, 8), (28, 28)])
def test_pixels_accepts_the_allowed_shapes(h: int, w: int) -> None:
    grid = _grid(h, w)
    grid[0][0], grid[-1][-1] = 255, 12.5
    arr = pixels_to_array(grid)
    assert arr.shape == (h, w)
    assert arr.dtype == np.float32
    assert arr[0, 0] == 255 and arr[-1, -1] == 12.5


def test_pixels_accepts_1024x1024() -> None:
    grid = np.zeros((1024, 1024), dtype=np.uint8)
    grid[500:520, 400:600] = 255
    arr = pixels_to_array(grid.tolist())
    assert arr.shape == (1024, 1024)
    assert float(arr.sum()) == 255.0 * 20 * 200


def test_pixels_accepts_numpy_arrays_and_checks_them_too() -> None:
    assert pixels_to_array(np.full((9, 9), 3, np.uint8)).dtype == np.float32
    with pytest.raises(InvalidInput, match="2-D"):
        pixels_to_array(np.zeros((8, 8, 3)))
    with pytest.raises(InvalidInput, match="numbers"):
        pixels_to_array(np.ones((8, 8), dtype=bool))
    with pytest.raises(InvalidInput, match="between 0 and 255"):
        pixels_to_array(np.full((8, 8), -3.0))


# ---------------------------------------------------------------- decode_payload
def test_decode_payload_with_pixels_returns_the_array() -> None:
    grid = seven(32, (2, 2, 30, 30)).tolist()
    arr = decode_payload({"pixels": grid})
    assert np.array_equal(arr, np.asarray(grid, np.float32))


def test_decode_payload_with_image_returns_ink() -> None:
    ink = seven(64, (8, 8, 56, 56))
    arr = decode_payload({"image": data_url(encode(ink))})
    assert np.array_equal(arr, ink.astype(np.float32))


@pytest.mark.parametrize(
    ("payload", "match"),
    [
        ({"pixels": _grid(8, 8), "seq": 1}, "unknown field.*seq"),
        ({"pixels": _grid(8, 8), "label": 3, "zz": 0}, r"unknown field\(s\): label, zz"),
        ({"pixels": _grid(8, 8), "image": "data:image/png;base64,"}, "exactly one"),
        ({}, "exactly one"),
        ({"label": 3}, "unknown field"),
        ([["pixels"]], "JSON object"),
        ("pixels", "JSON object"),
        (None, "JSON object"),
    ],
)
def test_decode_payload_rejects(payload: object, match: str) -> None:
    with pytest.raises(InvalidInput, match=match):
        decode_payload(payload)


def test_decode_payload_accepts_allowed_extra_fields() -> None:
    arr = decode_payload({"pixels": _grid(8, 8, 7), "seq": 4, "label": 2}, allowed={"seq", "label"})
    assert arr.shape == (8, 8) and float(arr.max()) == 7.0
    with pytest.raises(InvalidInput, match="exactly one"):
        decode_payload({"seq": 4}, allowed={"seq"})
    with pytest.raises(InvalidInput, match="unknown field.*other"):
        decode_payload({"pixels": _grid(8, 8), "seq": 4, "other": 1}, allowed={"seq"})


# ---------------------------------------------------------------- images
def test_png_data_url_white_on_black_keeps_ink_high() -> None:
    ink = seven()
    arr = image_to_array(image_bytes_from_data_url(data_url(encode(rgb(ink)))))
    assert np.array_equal(arr, ink.astype(np.float32))


def test_png_black_on_white_is_inverted_to_ink_high() -> None:
    ink = seven()
    arr = image_to_array(encode(rgb(black_on_white(ink))))
    assert np.array_equal(arr, ink.astype(np.float32))
    assert arr[0, 0] == 0  # background is 0, as in MNIST


def test_jpeg_data_url_in_either_polarity_gives_the_same_ink() -> None:
    ink = seven()
    light = image_to_array(
        image_bytes_from_data_url(data_url(encode(rgb(black_on_white(ink)), "JPEG", quality=90),
                                           "image/jpeg")))
    dark = image_to_array(image_bytes_from_data_url(
        data_url(encode(rgb(ink), "JPEG", quality=90), "image/jpeg")))
    for arr in (light, dark):
        assert arr.shape == ink.shape
        assert float(np.median(arr[ink == 0])) < 10  # background near 0
        assert float(np.median(arr[ink == 255])) > 240  # strokes near full ink
        assert correlation(arr, ink) > 0.98
    a, b = to_mnist(light), to_mnist(dark)
    assert a is not None and b is not None
    assert np.abs(a.astype(int) - b).mean() < 3
    assert correlation(a, to_mnist(ink.astype(np.float32))) > 0.97


def test_bare_base64_is_accepted() -> None:
    raw = encode(seven(32, (4, 4, 28, 28)))
    assert image_bytes_from_data_url(base64.b64encode(raw).decode()) == raw


@pytest.mark.parametrize("colour", [(0, 0, 0), (255, 255, 255), (200, 30, 30)])
def test_rgba_on_transparent_background_uses_alpha_as_ink(colour: tuple[int, int, int]) -> None:
    ink = seven()
    arr = image_to_array(encode(rgba_on_transparent(ink, colour)))
    assert np.array_equal(arr, ink.astype(np.float32))


def test_opaque_rgba_falls_back_to_polarity_detection() -> None:
    ink = seven()
    img = rgb(black_on_white(ink)).convert("RGBA")  # alpha 255 everywhere
    assert np.array_equal(image_to_array(encode(img)), ink.astype(np.float32))


def test_grayscale_with_alpha_on_transparent_background() -> None:
    ink = seven()
    la = Image.merge("LA", [Image.new("L", (200, 200), 0), Image.fromarray(ink)])
    assert np.array_equal(image_to_array(encode(la)), ink.astype(np.float32))


def _png() -> bytes:
    return encode(seven(64, (8, 8, 56, 56)))


@pytest.mark.parametrize(
    ("raw", "match"),
    [
        pytest.param(b"\x89PNG\r\n\x1a\n" + b"\x00garbage" * 40, "corrupt", id="corrupt-png"),
        pytest.param(_png()[: len(_png()) // 2], "corrupt", id="truncated-png"),
        pytest.param(_png()[:40], "corrupt", id="png-header-only"),
        pytest.param(b"hello, this is not an image at all", "corrupt", id="text"),
        pytest.param(encode(seven(64, (8, 8, 56, 56)), "GIF"), "PNG or JPEG, got GIF", id="gif"),
        pytest.param(encode(seven(64, (8, 8, 56, 56)), "BMP"), "PNG or JPEG, got BMP", id="bmp"),
        pytest.param(encode(seven(64, (8, 8, 56, 56)), "TIFF"), "PNG or JPEG", id="tiff"),
        pytest.param(encode(np.zeros((8, 4097), np.uint8)), "too large.*4097x8", id="4097-wide"),
        pytest.param(encode(np.zeros((4097, 8), np.uint8)), "too large.*8x4097", id="4097-tall"),
        pytest.param(encode(np.zeros((5, 5), np.uint8)), "too small", id="5x5"),
        pytest.param(b"", "empty", id="empty"),
    ],
)
def test_bad_image_bytes_are_rejected(raw: bytes, match: str) -> None:
    with pytest.raises(InvalidInput, match=match):
        image_to_array(raw)


def test_corrupt_jpeg_is_rejected() -> None:
    raw = encode(rgb(seven()), "JPEG")
    with pytest.raises(InvalidInput, match="corrupt"):
        image_to_array(raw[: len(raw) // 3])


def test_image_side_4096_is_still_accepted() -> None:
    arr = image_to_array(encode(np.zeros((8, 4096), np.uint8)))
    assert arr.shape == (2, 1024)  # accepted, and reduced 4x while decoding


@pytest.mark.parametrize(
    ("image", "match"),
    [
        ("data:image/png;base64,@@not base64@@", "not valid base64"),
        ("data:image/png;base64,abc", "not valid base64"),  # bad padding
        ("data:image/png,iVBORw0KGgo=", "base64-encoded"),
        (12345, "data URL string"),
        (["data:image/png;base64,"], "data URL string"),
        ("data:image/png;base64," + "A" * (12 * 1024 * 1024), "too large"),
    ],
    ids=["not-base64", "bad-padding", "not-base64-url", "number", "list", "12MB"],
)
def test_bad_data_urls_are_rejected(image: object, match: str) -> None:
    with pytest.raises(InvalidInput, match=match):
        image_bytes_from_data_url(image)


def test_bad_image_in_a_payload_is_invalid_input() -> None:
    with pytest.raises(InvalidInput, match="PNG or JPEG"):
        decode_payload({"image": data_url(encode(seven(), "GIF"), "image/gif")})
    with pytest.raises(InvalidInput, match="empty"):
        decode_payload({"image": "data:image/png;base64,"})


def test_load_file_reads_png_and_npy_and_reports_unreadable(tmp_path: Path) -> None:
    ink = seven(64, (8, 8, 56, 56))
    (tmp_path / "d.png").write_bytes(encode(black_on_white(ink)))
    np.save(tmp_path / "d.npy", ink)
    assert np.array_equal(load_file(tmp_path / "d.png"), ink.astype(np.float32))
    assert np.array_equal(load_file(tmp_path / "d.npy"), ink.astype(np.float32))
    with pytest.raises(InvalidInput, match="cannot read"):
        load_file(tmp_path / "missing.png")
    (tmp_path / "bad.npy").write_bytes(b"not numpy")
    with pytest.raises(InvalidInput, match="bad.npy"):
        load_file(tmp_path / "bad.npy")


# ---------------------------------------------------------------- to_mnist
def test_blank_is_none() -> None:
    assert to_mnist(np.zeros((200, 200), np.float32)) is None
    assert to_mnist(np.zeros((8, 8), np.float32)) is None


def test_faint_noise_below_the_ink_level_is_blank() -> None:
    rng = np.random.default_rng(0)
    noise = rng.uniform(0, INK_LEVEL, size=(200, 200)).astype(np.float32)
    assert to_mnist(noise) is None
    assert to_mnist(np.full((50, 50), INK_LEVEL, np.float32)) is None


def test_faint_noise_does_not_widen_the_crop() -> None:
    ink = seven(200, (10, 10, 70, 80)).astype(np.float32)
    noise = np.random.default_rng(1).uniform(0, INK_LEVEL - 1, size=ink.shape).astype(np.float32)
    clean, noisy = to_mnist(ink), to_mnist(np.maximum(ink, noise))
    assert clean is not None and noisy is not None
    (t0, b0, l0, r0), (t1, b1, l1, r1) = bbox(clean), bbox(noisy)
    assert (b1 - t1, r1 - l1) == (b0 - t0, r0 - l0)


def test_faint_noise_inside_the_crop_is_treated_as_background() -> None:
    """BUG: pixels below INK_LEVEL ("background noise, not a stroke") inside the ink's bounding
    box are kept, and come out as a grey haze over the whole 20x20 box."""
    ink = seven(200, (10, 10, 70, 80)).astype(np.float32)
    noise = np.random.default_rng(1).uniform(0, INK_LEVEL - 1, size=ink.shape).astype(np.float32)
    clean, noisy = to_mnist(ink), to_mnist(np.maximum(ink, noise))
    assert clean is not None and noisy is not None
    assert correlation(clean, noisy) > 0.97


def test_output_is_uint8_28x28_at_full_ink() -> None:
    digit = to_mnist(seven().astype(np.float32))
    assert digit is not None
    assert digit.dtype == np.uint8 and digit.shape == (SIDE, SIDE)
    assert int(digit.max()) == 255


def test_faint_pencil_is_normalised_to_full_ink() -> None:
    ink = seven().astype(np.float32)
    faint = to_mnist(ink * (60 / 255))
    full = to_mnist(ink)
    assert faint is not None and full is not None
    assert int(faint.max()) == 255
    assert np.abs(faint.astype(int) - full).max() <= 2


def test_symmetric_digit_fills_exactly_the_central_20x20_box() -> None:
    digit = to_mnist(ring(300, 120, 90).astype(np.float32))
    assert digit is not None
    margin = (SIDE - FIT) // 2
    assert bbox(digit) == (margin, margin + FIT - 1, margin, margin + FIT - 1)


@pytest.mark.parametrize(
    "box", [(40, 30, 160, 180), (0, 0, 30, 40), (150, 120, 200, 200), (90, 5, 110, 195)]
)
def test_ink_fits_20x20_and_centre_of_mass_is_centred(box: tuple[int, int, int, int]) -> None:
    digit = to_mnist(seven(200, box).astype(np.float32))
    assert digit is not None
    top, bottom, left, right = bbox(digit)
    height, width = bottom - top + 1, right - left + 1
    assert max(height, width) == FIT and min(height, width) <= FIT
    assert 0 <= top and bottom < SIDE and 0 <= left and right < SIDE
    cy, cx = centre_of_mass(digit)
    assert abs(cy - CENTRE) <= 1.0 and abs(cx - CENTRE) <= 1.0


def test_small_digit_in_a_corner_matches_the_same_digit_drawn_large() -> None:
    small = to_mnist(seven(200, (4, 6, 44, 56)).astype(np.float32))
    large = to_mnist(seven(200, (40, 30, 160, 180)).astype(np.float32))
    assert small is not None and large is not None
    assert np.abs(small.astype(int) - large).mean() < 12  # out of 255
    assert correlation(small, large) > 0.9


def test_position_on_the_canvas_does_not_matter() -> None:
    corner = to_mnist(seven(200, (0, 0, 60, 75)).astype(np.float32))
    other = to_mnist(seven(200, (140, 125, 200, 200)).astype(np.float32))
    assert corner is not None and other is not None
    assert np.array_equal(corner, other)


def test_aspect_ratio_is_kept_for_a_tall_thin_one() -> None:
    one = np.zeros((200, 200), np.float32)
    one[20:180, 95:106] = 255  # 160 tall, 11 wide
    digit = to_mnist(one)
    assert digit is not None
    top, bottom, left, right = bbox(digit)
    assert bottom - top + 1 == FIT
    assert right - left + 1 <= 3


def test_aspect_ratio_is_kept_for_a_wide_stroke() -> None:
    dash = np.zeros((100, 300), np.float32)
    dash[40:55, 10:290] = 255  # 15 tall, 280 wide
    digit = to_mnist(dash)
    assert digit is not None
    top, bottom, left, right = bbox(digit)
    assert right - left + 1 == FIT
    assert bottom - top + 1 <= 3


def test_tiny_digit_is_scaled_up_to_20() -> None:
    tiny = np.zeros((8, 8), np.float32)
    tiny[2:7, 3:5] = 255  # 5x2
    digit = to_mnist(tiny)
    assert digit is not None
    top, bottom, left, right = bbox(digit)
    assert bottom - top + 1 == FIT
    assert 6 <= right - left + 1 <= 10


def test_a_single_dot_is_not_blank() -> None:
    dot = np.zeros((50, 50), np.float32)
    dot[20, 30] = 200
    digit = to_mnist(dot)
    assert digit is not None and int(digit.max()) == 255


def test_to_mnist_batch_marks_empty_items() -> None:
    images = np.stack([seven(60, (5, 5, 55, 55)), np.zeros((60, 60), np.uint8)])
    digits, empty = to_mnist_batch(images)
    assert digits.shape == (2, SIDE, SIDE) and digits.dtype == np.uint8
    assert empty.tolist() == [False, True]
    assert np.array_equal(digits[0], to_mnist(images[0].astype(np.float32)))
    assert not digits[1].any()


# ---------------------------------------------------------------- with the real model
N_REAL = 50


@pytest.fixture(scope="module")
def classifier():
    """The bundled default model, loaded once for this module."""
    from shared.model_store import BUNDLED_DIR, MODEL_FILE

    assert (BUNDLED_DIR / MODEL_FILE).exists(), "the bundled model is part of the package"
    from shared.classifier import Classifier

    return Classifier(BUNDLED_DIR)


@pytest.fixture(scope="module")
def mnist_test(mnist_dir: Path):
    """The real MNIST test split."""
    from shared.mnist import load_mnist

    return load_mnist("test", mnist_dir)


def _predict(classifier, inks: list[np.ndarray]) -> np.ndarray:
    digits = [to_mnist(np.asarray(ink, np.float32)) for ink in inks]
    assert all(d is not None for d in digits)
    return classifier.predict(np.stack(digits)).argmax(axis=1)


def _upscaled(digit: np.ndarray, side: int) -> np.ndarray:
    return np.asarray(Image.fromarray(digit).resize((side, side), Image.Resampling.BILINEAR))


def test_mnist_as_is_is_classified_as_well_as_mnist(classifier, mnist_test) -> None:
    n = 1000
    predicted = _predict(classifier, list(mnist_test.images[:n]))
    accuracy = float((predicted == mnist_test.labels[:n]).mean())
    assert accuracy >= 0.98, f"accuracy {accuracy:.3f} on {n} MNIST test digits sent as-is"


@pytest.mark.parametrize(
    ("scale_to", "corner"), [(28, "top-left"), (84, "bottom-right"), (40, "top-right")]
)
def test_small_mnist_digit_in_a_corner_is_classified_like_the_original(
    classifier, mnist_test, scale_to: int, corner: str
) -> None:
    originals = list(mnist_test.images[:N_REAL])
    placed = []
    for digit in originals:
        small = _upscaled(digit, scale_to) if scale_to != 28 else digit
        top = 2 if corner.startswith("top") else 300 - scale_to - 2
        left = 2 if corner.endswith("left") else 300 - scale_to - 2
        placed.append(place(300, small, top, left))
    want, got = _predict(classifier, originals), _predict(classifier, placed)
    agree = int((want == got).sum())
    assert agree >= math.ceil(0.96 * N_REAL), f"only {agree}/{N_REAL} agree ({corner}, {scale_to})"


def test_faint_background_noise_does_not_change_the_prediction(classifier, mnist_test) -> None:
    """BUG (same as above): uniform noise up to 18/255, below INK_LEVEL, costs ~10 points."""
    rng = np.random.default_rng(0)
    originals = list(mnist_test.images[:N_REAL])
    noisy = []
    for digit in originals:
        canvas = rng.uniform(0, 18, (200, 200)).astype(np.float32)
        canvas[40:152, 50:162] = np.maximum(canvas[40:152, 50:162], _upscaled(digit, 112))
        noisy.append(canvas)
    want, got = _predict(classifier, originals), _predict(classifier, noisy)
    agree = int((want == got).sum())
    assert agree >= math.ceil(0.96 * N_REAL), f"only {agree}/{N_REAL} agree"


def test_mnist_digit_as_black_on_white_png_gets_the_same_prediction(
    classifier, mnist_test
) -> None:
    originals = list(mnist_test.images[N_REAL : 2 * N_REAL])
    light, dark = [], []
    for digit in originals:
        canvas = place(200, _upscaled(digit, 112), 50, 40)
        light.append(decode_payload({"image": data_url(encode(rgb(black_on_white(canvas))))}))
        dark.append(decode_payload({"image": data_url(encode(canvas))}))
    for a, b in zip(light, dark, strict=True):
        assert np.array_equal(to_mnist(a), to_mnist(b))  # polarity is undone exactly
    want, got = _predict(classifier, originals), _predict(classifier, light)
    agree = int((want == got).sum())
    assert agree >= math.ceil(0.96 * N_REAL), f"only {agree}/{N_REAL} agree"
