"""The compact queue format: round trips, and a worker re-checks whatever arrives."""

from __future__ import annotations

import numpy as np
import pytest

from shared.preprocess import InvalidInput
from shared.wire import pack, unpack


def test_pixels_round_trip_as_uint8() -> None:
    ink = np.arange(30 * 20, dtype=np.float32).reshape(30, 20) % 256
    item = pack({"pixels": ink.tolist()}, ink)
    assert set(item) == {"u8", "shape"} and item["shape"] == [30, 20]
    np.testing.assert_array_equal(unpack(item), ink)


def test_images_travel_as_they_came() -> None:
    item = {"image": "data:image/png;base64,xyz"}
    assert pack(item, np.zeros((8, 8))) == item


def test_plain_api_payloads_are_accepted_too() -> None:
    assert unpack({"pixels": [[0] * 8] * 8}).shape == (8, 8)


@pytest.mark.parametrize(
    "item",
    [
        {"u8": "AAAA", "shape": [8, 8]},  # too few bytes for the shape
        {"u8": "!!notbase64!!", "shape": [8, 8]},
        {"u8": "AAAA", "shape": [3, 1]},  # below the minimum side
        {"u8": "AAAA", "shape": "8x8"},
        {"u8": "AAAA"},
        {"image": 42},
        "junk",
    ],
)
def test_malformed_wire_items_are_invalid_input(item: object) -> None:
    with pytest.raises(InvalidInput):
        unpack(item)


def test_checked_packs_pixels_and_passes_images_after_a_header_check() -> None:
    from shared.wire import checked
    from tests.utils.images import data_url, encode

    packed = checked({"pixels": [[0, 255] * 5] * 10})
    assert packed["shape"] == [10, 10]
    url = data_url(encode(np.zeros((20, 30), np.uint8)))
    assert checked({"image": url}) == {"image": url}  # not decoded here: the worker does it


@pytest.mark.parametrize(("item", "needle"), [
    ({"pixels": [[0] * 8] * 8, "image": "x"}, "exactly one"),
    ({"pixels": [[0] * 8] * 8, "colour": 1}, "unknown field"),
    ({"image": "data:image/png;base64,AAAA"}, "corrupt"),
    ({"image": "data:image/gif;base64,R0lGODlhAQABAAAAACw="}, "corrupt"),
    ({"pixels": [[0] * 4] * 4}, "between 8x8"),
])
def test_checked_refuses_bad_items_clearly(item: dict, needle: str) -> None:
    from shared.wire import checked

    with pytest.raises(InvalidInput, match=needle):
        checked(item)
