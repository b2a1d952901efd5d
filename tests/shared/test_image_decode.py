"""Unit tests for shared.image_decode: band decoding equals a whole decode, reduced."""

from __future__ import annotations

import io
import struct
import threading
import time
import zlib

import numpy as np
import pytest
from PIL import Image

import shared.preprocess as preprocess
from shared.image_decode import (
    WORK_SIDE,
    InkAccumulator,
    band_rows,
    palette_luts,
    png_bands,
    reduce_factor,
)
from shared.preprocess import InvalidInput, image_to_array, to_mnist
from tests.utils.images import black_on_white, draw_strokes, encode, rgba_on_transparent


def noisy(h: int, w: int, seed: int = 0) -> np.ndarray:
    """Ink with texture everywhere, so PNG's encoder uses every row filter (Sub, Up, Paeth...)."""
    rng = np.random.default_rng(seed)
    base = draw_strokes((w, h), (w // 8, h // 8, w - w // 8, h - h // 8)).astype(np.int16)
    return np.clip(base + rng.integers(0, 40, (h, w)), 0, 255).astype(np.uint8)


def whole(raw: bytes) -> Image.Image:
    img = Image.open(io.BytesIO(raw))
    img.load()
    return img


@pytest.mark.parametrize(("width", "height", "factor"),
                         [(1024, 1024, 1), (1025, 8, 2), (4096, 4096, 4), (8, 3000, 3)])
def test_reduce_factor_brings_the_longest_side_within_work_side(width: int, height: int,
                                                                 factor: int) -> None:
    assert reduce_factor(width, height) == factor
    assert max(width, height) / factor <= WORK_SIDE


def test_band_rows_are_whole_boxes_of_about_the_budget() -> None:
    assert band_rows(4096, 4) % 4 == 0
    assert band_rows(4096, 4) * 4096 <= 1 << 20
    assert band_rows(10**7, 3) == 3  # at least one row of boxes


@pytest.mark.parametrize("mode", ["L", "RGB", "RGBA", "LA", "P"])
def test_png_bands_match_the_whole_decode(mode: str) -> None:
    ink = noisy(61, 53)
    img = Image.fromarray(ink).convert(mode) if mode != "RGBA" else rgba_on_transparent(ink)
    if mode == "LA":
        img = rgba_on_transparent(ink).convert("LA")
    raw = encode(img)
    bands = list(png_bands(raw, rows_per_band=7))
    assert [len(g) for g, _ in bands] == [7] * 8 + [5]
    gray = np.vstack([g for g, _ in bands])
    ref = whole(raw)
    np.testing.assert_array_equal(gray, np.asarray(ref.convert("L")))
    if mode in ("RGBA", "LA"):
        alpha = np.vstack([a for _, a in bands])
        np.testing.assert_array_equal(alpha, np.asarray(ref.getchannel("A")))
    else:
        assert all(a is None for _, a in bands)


def test_palette_with_transparency_gives_its_alpha() -> None:
    img = Image.fromarray(noisy(40, 40)).convert("P")
    raw = encode(img, transparency=0)
    ref = whole(raw).convert("RGBA")
    bands = list(png_bands(raw, rows_per_band=16))
    np.testing.assert_array_equal(np.vstack([a for _, a in bands]),
                                  np.asarray(ref.getchannel("A")))
    np.testing.assert_array_equal(np.vstack([g for g, _ in bands]),
                                  np.asarray(whole(raw).convert("L")))


def test_palette_luts_follow_pil_gray_conversion() -> None:
    plte = bytes(range(256)) * 3
    gray, alpha = palette_luts(plte, b"\x00\x80")
    pal = Image.new("P", (256, 1))
    pal.putpalette(plte)
    pal.putdata(list(range(256)))
    np.testing.assert_array_equal(gray, np.asarray(pal.convert("L"))[0])
    assert alpha[:3].tolist() == [0, 128, 255]


def test_accumulator_picks_alpha_only_when_something_is_transparent() -> None:
    acc = InkAccumulator(factor=2)
    acc.add(np.full((4, 4), 200, np.uint8), np.full((4, 4), 255, np.uint8))
    assert acc.ink().shape == (2, 2)
    assert float(acc.ink().max()) == 55.0  # opaque light paper: gray inverted, not alpha


@pytest.mark.parametrize("make", [
    pytest.param(lambda ink: Image.fromarray(black_on_white(ink)), id="black-on-white-L"),
    pytest.param(lambda ink: Image.fromarray(ink).convert("RGB"), id="white-on-black-RGB"),
    pytest.param(rgba_on_transparent, id="strokes-on-transparency"),
    pytest.param(lambda ink: Image.fromarray(black_on_white(ink)).convert("P"), id="palette"),
])
def test_large_images_give_the_same_digit_as_a_whole_decode(make) -> None:  # type: ignore[no-untyped-def]
    ink = draw_strokes((2100, 1900), (300, 200, 1500, 1700))
    raw = encode(make(ink))
    reduced = image_to_array(raw)
    assert max(reduced.shape) <= WORK_SIDE
    digit = to_mnist(reduced)
    expected = to_mnist(ink.astype(np.float32))
    assert digit is not None and expected is not None
    assert np.corrcoef(digit.ravel(), expected.ravel())[0, 1] > 0.97


def test_large_jpeg_is_decoded_at_a_reduced_scale() -> None:
    ink = draw_strokes((3000, 3000), (500, 500, 2500, 2500))
    arr = image_to_array(encode(Image.fromarray(black_on_white(ink)), "JPEG", quality=90))
    assert max(arr.shape) <= WORK_SIDE
    digit, expected = to_mnist(arr), to_mnist(ink.astype(np.float32))
    assert np.corrcoef(digit.ravel(), expected.ravel())[0, 1] > 0.97


def _set_ihdr(raw: bytes, interlace: int) -> bytes:
    """The same PNG with the interlace byte of its header changed (PIL cannot write Adam7)."""
    ihdr = raw[12:29][:-1] + bytes([interlace])
    return raw[:12] + ihdr + struct.pack(">I", zlib.crc32(ihdr) & 0xFFFFFFFF) + raw[33:]


def test_large_interlaced_png_is_refused_clearly() -> None:
    raw = _set_ihdr(encode(np.zeros((1500, 1500), np.uint8)), interlace=1)
    with pytest.raises(InvalidInput, match="interlaced PNGs are accepted up to 1024x1024"):
        image_to_array(raw)


def test_large_16_bit_png_is_refused_clearly() -> None:
    img = Image.fromarray(draw_strokes((1100, 1100), (100, 100, 1000, 1000))
                          .astype(np.uint16) * 257)
    with pytest.raises(InvalidInput, match="16-bit PNGs are accepted up to"):
        image_to_array(encode(img))


def _with_idat(raw: bytes, idat: bytes) -> bytes:
    """The same PNG header with other image data (a single IDAT chunk)."""
    head = raw[:33]  # signature + IHDR
    chunk = struct.pack(">I", len(idat)) + b"IDAT" + idat + struct.pack(
        ">I", zlib.crc32(b"IDAT" + idat) & 0xFFFFFFFF)
    return head + chunk + b"\x00\x00\x00\x00IEND\xaeB`\x82"


def test_truncated_large_png_is_corrupt_not_a_crash() -> None:
    raw = encode(np.zeros((1500, 1500), np.uint8))
    short = zlib.compress(b"\x00" * (1501 * 100))  # 100 rows of 1500
    with pytest.raises(InvalidInput, match="corrupt"):
        image_to_array(_with_idat(raw, short))


def test_zlib_bomb_is_inflated_only_as_far_as_the_header_promises() -> None:
    raw = encode(np.zeros((1500, 1500), np.uint8))
    bomb = zlib.compress(b"\x00" * (1501 * 1500 * 40), 9)  # 40x what the header needs
    arr = image_to_array(_with_idat(raw, bomb))
    assert arr.shape == (750, 750) and float(arr.max()) == 0.0


def test_concurrent_decodes_are_limited_per_process(monkeypatch: pytest.MonkeyPatch) -> None:
    active, peak, lock = 0, 0, threading.Lock()

    def slow_decode(raw: bytes, img: Image.Image) -> np.ndarray:
        nonlocal active, peak
        with lock:
            active += 1
            peak = max(peak, active)
        time.sleep(0.05)
        with lock:
            active -= 1
        return np.zeros((8, 8), np.float32)

    monkeypatch.setattr(preprocess, "large_png_ink", slow_decode)
    raw = encode(np.zeros((8, 1100), np.uint8))
    threads = [threading.Thread(target=image_to_array, args=(raw,)) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert peak == preprocess.MAX_CONCURRENT_DECODES
