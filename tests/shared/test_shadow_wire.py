"""The shadow mark on a wire item: added by the web, read and stripped by the worker."""

from __future__ import annotations

from typing import Any

import pytest

from shared.preprocess import InvalidInput
from shared.shadow_wire import shadow_version, split_shadow, with_shadow

ITEM = {"pixels": "AAAA", "h": 2, "w": 2}


def test_a_marked_item_round_trips() -> None:
    marked = with_shadow(dict(ITEM), 3)
    assert marked == {**ITEM, "shadow": 3}
    assert split_shadow(marked) == (ITEM, 3)


def test_no_shadow_leaves_the_item_alone() -> None:
    assert with_shadow(dict(ITEM), None) == ITEM
    assert split_shadow(dict(ITEM)) == (ITEM, None)
    assert split_shadow("not a dict") == ("not a dict", None)


def test_number_mode_is_refused_with_a_clear_message() -> None:
    with pytest.raises(InvalidInput, match="shadow mode compares one digit"):
        with_shadow({"mode": "number", "item": ITEM}, 2)


@pytest.mark.parametrize("bad", [True, "2", 2.0, 0, -1, [2]])
def test_a_malformed_mark_is_stripped_and_costs_no_second_pass(bad: Any) -> None:
    assert split_shadow({**ITEM, "shadow": bad}) == (ITEM, None)


@pytest.mark.parametrize("bad", [True, False, "2", 2.5, 0, -3, [1], {}])
def test_shadow_version_refuses_anything_but_a_positive_int_or_null(bad: Any) -> None:
    with pytest.raises(InvalidInput, match="'version' must be"):
        shadow_version(bad)


def test_shadow_version_accepts_an_int_or_null() -> None:
    assert shadow_version(4) == 4
    assert shadow_version(None) is None
