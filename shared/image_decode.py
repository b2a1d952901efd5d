"""Bounded-cost image decoding: any accepted PNG/JPEG becomes ink-high float32 of at most
WORK_SIDE on its longest side, with at most a few MB held at once.

Why: a 70 KB PNG can hold 4096x4096 RGBA pixels. Decoded whole, then turned into float32 and
resized from full size, it cost ~450 MB and seconds per process. The digit is fitted into 20x20
afterwards, so nothing is lost by working at WORK_SIDE (1024) or less:
- JPEG: PIL's `draft` makes libjpeg decode at 1/2, 1/4 or 1/8 scale, in gray.
- PNG (8-bit, not interlaced): the zlib stream is inflated band by band (only the bytes the
  header promises; a zlib bomb stops there) by zlib-ng, whose inflate took 16 ms where zlib's
  took 384 ms for a 4096x4096 RGBA drawing; each band is decoded by PIL as a small PNG of its
  own (the previous row travels as an unfiltered first row, so PNG's row filters still work),
  and box-reduced right away. Palette PNGs below 8 bits are decoded whole (1 byte per pixel)
  and reduced band by band. Interlaced or 16-bit PNGs larger than WORK_SIDE are refused: their
  rows cannot be taken in bands.
Polarity (dark on light, light on dark, strokes on transparency) is decided as for small
images: from the alpha channel, else from the full-resolution border.
"""

from __future__ import annotations

import math
import struct
from collections.abc import Iterator

import numpy as np
from PIL import Image
from zlib_ng import zlib_ng

WORK_SIDE = 1024  # longest side kept; MNIST needs 20x20 of the digit's bounding box
BAND_PIXELS = 1 << 20  # pixels decoded at once (4 MB in RGBA)
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
_CHANNELS = {0: 1, 2: 3, 3: 1, 4: 2, 6: 4}  # PNG colour type -> samples per pixel


class UnsupportedImage(ValueError):
    """A well-formed image this decoder refuses; the message says what to do instead."""


def reduce_factor(width: int, height: int, work_side: int = WORK_SIDE) -> int:
    """The integer box-reduction that brings the longest side to at most `work_side`."""
    return max(1, math.ceil(max(width, height) / work_side))


def band_rows(width: int, factor: int, band_pixels: int = BAND_PIXELS) -> int:
    """Rows per band: a multiple of `factor` (so boxes never straddle bands), ~band_pixels."""
    return factor * max(1, band_pixels // (width * factor))


def dark_on_light(border: np.ndarray) -> bool:
    """Guess polarity from the border, which is background in any sensible drawing."""
    return float(np.median(border)) > 127.0


class InkAccumulator:
    """Collects reduced bands of one image and decides its polarity at the end."""

    def __init__(self, factor: int) -> None:
        self.factor = factor
        self.gray: list[np.ndarray] = []
        self.alpha: list[np.ndarray] = []
        self.alpha_min = 255
        self.top: np.ndarray | None = None
        self.bottom: np.ndarray | None = None
        self.sides: list[np.ndarray] = []

    def _reduce(self, a: np.ndarray) -> np.ndarray:
        return np.asarray(Image.fromarray(a).reduce(self.factor))

    def add(self, gray: np.ndarray, alpha: np.ndarray | None = None) -> None:
        """Reduce one full-resolution band (uint8, rows in order); keep what polarity needs."""
        if alpha is not None:
            self.alpha_min = min(self.alpha_min, int(alpha.min()))
            self.alpha.append(self._reduce(alpha))
        if self.top is None:
            self.top = gray[0].copy()
        self.bottom = gray[-1].copy()
        self.sides += [gray[:, 0].copy(), gray[:, -1].copy()]
        self.gray.append(self._reduce(gray))

    def add_image(self, band: Image.Image) -> None:
        """`add` for a PIL band of any mode, with the alpha rule of small images."""
        alpha = None
        if band.mode in ("RGBA", "LA", "PA") or (band.mode == "P" and "transparency" in band.info):
            alpha = np.asarray(band.convert("RGBA").getchannel("A"))
        self.add(np.asarray(band.convert("L")), alpha)

    def ink(self) -> np.ndarray:
        """Ink-high float32 of the reduced image."""
        if self.alpha and self.alpha_min < 250:  # strokes on transparency: alpha is the ink
            return np.vstack(self.alpha).astype(np.float32)
        gray = np.vstack(self.gray).astype(np.float32)
        assert self.top is not None and self.bottom is not None
        border = np.concatenate([self.top, self.bottom, *self.sides])
        return 255.0 - gray if dark_on_light(border) else gray


# ---------------------------------------------------------------- PNG, band by band
def _chunks(raw: bytes) -> Iterator[tuple[bytes, memoryview]]:
    """(type, data) of each PNG chunk, bounds-checked; stops at IEND."""
    view, pos = memoryview(raw), len(PNG_SIGNATURE)
    while pos + 8 <= len(raw):
        length, kind = struct.unpack(">I4s", raw[pos : pos + 8])
        end = pos + 8 + length
        if end + 4 > len(raw):
            raise ValueError("truncated PNG chunk")
        yield kind, view[pos + 8 : end]
        if kind == b"IEND":
            return
        pos = end + 4


class _Inflater:
    """Inflates the concatenated IDAT data on demand, never more than asked for."""

    def __init__(self, idats: list[memoryview]) -> None:
        self._idats = iter(idats)
        self._z = zlib_ng.decompressobj()  # the same API as zlib's, ~5-20x faster inflate
        self._pending = b""

    def read(self, n: int) -> list[bytes]:
        """Exactly n inflated bytes, as pieces (joined once by the caller)."""
        out: list[bytes] = []
        got = 0
        while got < n:
            chunk = self._z.decompress(self._pending, n - got)
            self._pending = self._z.unconsumed_tail
            if chunk:
                out.append(chunk)
                got += len(chunk)
                continue
            if self._pending:
                continue
            nxt = next(self._idats, None)
            if nxt is None or self._z.eof:
                raise ValueError("PNG image data ends early")
            self._pending = bytes(nxt)
        return out


_RAWMODES = {0: "L", 2: "RGB", 3: "L", 4: "LA", 6: "RGBA"}  # 8-bit; palette as indices


def palette_luts(plte: bytes, trns: bytes | None) -> tuple[np.ndarray, np.ndarray]:
    """Gray (as PIL's convert("L")) and alpha lookup tables of a PNG palette."""
    rgb = np.zeros((256, 3), np.uint32)
    entries = np.frombuffer(plte[: len(plte) // 3 * 3], np.uint8).reshape(-1, 3)[:256]
    rgb[: len(entries)] = entries
    gray = ((rgb[:, 0] * 19595 + rgb[:, 1] * 38470 + rgb[:, 2] * 7471 + 0x8000) >> 16)
    alpha = np.full(256, 255, np.uint8)
    if trns:
        t = np.frombuffer(trns[:256], np.uint8)
        alpha[: len(t)] = t
    return gray.astype(np.uint8), alpha


def png_bands(raw: bytes, rows_per_band: int
              ) -> Iterator[tuple[np.ndarray, np.ndarray | None]]:
    """Decode an 8-bit, non-interlaced PNG band by band: (gray, alpha or None), uint8."""
    plte, trns = b"", None
    idats: list[memoryview] = []
    for kind, data in _chunks(raw):
        if kind == b"PLTE":
            plte = bytes(data)
        elif kind == b"tRNS":
            trns = bytes(data)
        elif kind == b"IDAT":
            idats.append(data)
    width, height, depth, colour, interlace = png_header(raw)
    if depth != 8 or interlace or colour not in _CHANNELS or not idats:
        raise UnsupportedImage("only 8-bit non-interlaced PNGs are decoded in bands")
    rawmode = _RAWMODES[colour]
    luts = palette_luts(plte, trns) if colour == 3 else None
    stride = width * _CHANNELS[colour]
    inflater = _Inflater(idats)
    prev: bytes | None = None  # the last unfiltered row of the previous band
    for y0 in range(0, height, rows_per_band):
        rows = min(rows_per_band, height - y0)
        parts = inflater.read(rows * (stride + 1))
        if prev is not None:  # filter type 0 (stored as is), so the band's filters see it
            parts.insert(0, b"\x00" + prev)
        n = rows + (prev is not None)
        band = Image.frombytes(rawmode, (width, n), zlib_ng.compress(b"".join(parts), 0),
                               "zip", rawmode)
        prev = band.crop((0, n - 1, width, n)).tobytes()
        if n > rows:
            band = band.crop((0, 1, width, n))
        if luts is not None:
            idx = np.asarray(band)
            yield luts[0][idx], (luts[1][idx] if trns else None)
        elif colour in (4, 6):
            yield np.asarray(band.convert("L")), np.asarray(band.getchannel("A"))
        else:
            yield np.asarray(band.convert("L")), None


def whole_image_bands(img: Image.Image, rows_per_band: int) -> Iterator[Image.Image]:
    """Bands of an image already decoded (1 byte per pixel or less), for the reduction."""
    for y0 in range(0, img.height, rows_per_band):
        yield img.crop((0, y0, img.width, min(img.height, y0 + rows_per_band)))


def png_header(raw: bytes) -> tuple[int, int, int, int, int]:
    """(width, height, bit depth, colour type, interlace) from the IHDR, which comes first."""
    if raw[:8] != PNG_SIGNATURE or raw[12:16] != b"IHDR" or len(raw) < 29:
        raise ValueError("not a PNG")
    width, height, depth, colour, _, _, interlace = struct.unpack(">IIBBBBB", raw[16:29])
    return width, height, depth, colour, interlace


def large_png_ink(raw: bytes, img: Image.Image) -> np.ndarray:
    """Ink of a PNG larger than WORK_SIDE, reduced while decoding."""
    _, _, depth, _, interlace = png_header(raw)
    if interlace:
        raise UnsupportedImage(
            f"interlaced PNGs are accepted up to {WORK_SIDE}x{WORK_SIDE}: save it non-interlaced")
    if depth == 16:
        raise UnsupportedImage(
            f"16-bit PNGs are accepted up to {WORK_SIDE}x{WORK_SIDE}: save it as 8-bit")
    factor = reduce_factor(*img.size)
    rows = band_rows(img.width, factor)
    acc = InkAccumulator(factor)
    if depth < 8:  # packed palette/gray: one byte per pixel once decoded, then bands
        img.load()
        for band in whole_image_bands(img, rows):
            acc.add_image(band)
    else:
        for gray, alpha in png_bands(raw, rows):
            acc.add(gray, alpha)
    return acc.ink()


def large_jpeg(img: Image.Image) -> Image.Image:
    """A JPEG larger than WORK_SIDE, decoded in gray at a reduced DCT scale, then reduced."""
    factor = reduce_factor(*img.size)
    img.draft("L", (math.ceil(img.width / factor), math.ceil(img.height / factor)))
    img.load()
    rest = reduce_factor(*img.size)
    return img.reduce(rest) if rest > 1 else img
