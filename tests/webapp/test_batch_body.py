"""Reading a batch body item by item gives what json.loads gives, or hands over (None)."""

from __future__ import annotations

import json

import pytest

from webapp.batch_body import iter_images, off_loop


@pytest.mark.parametrize("body", [
    {"images": []},
    {"images": [{"pixels": [[0, 1], [2, 3]]}]},
    {"images": [{"pixels": [[0] * 8] * 8}, {"image": "data:image/png;base64,AAAA"}, 3, "x"]},
])
@pytest.mark.parametrize("indent", [None, 2])
def test_items_are_those_json_loads_would_give(body: dict, indent: int | None) -> None:
    raw = json.dumps(body, indent=indent).encode()
    assert iter_images(raw) == json.loads(raw)["images"]


@pytest.mark.parametrize("raw", [
    b'{"images": [1, 2]} trailing',
    b'{"images": [1 2]}',
    b'{"images": [1, 2], "extra": 1}',
    b'{"extra": 1, "images": [1]}',
    b'{"images": {"a": 1}}',
    b'["images"]',
    b'{"images": [1,',
    b'\xff\xfe',
])
def test_any_other_shape_is_left_to_the_ordinary_reader(raw: bytes) -> None:
    assert iter_images(raw) is None


def test_off_loop_runs_inline_without_gevent() -> None:
    assert off_loop(sum, [1, 2, 3]) == 6
