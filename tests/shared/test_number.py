"""shared.number and shared.number_wire: choosing a place's reading, one forward pass for a
whole call, the answer's shape, and the strict wire checks."""

from __future__ import annotations

import base64
from typing import Any

import numpy as np
import pytest

from shared.number import (
    MAX_DIGITS,
    WIDTH_MEAN,
    WIDTH_SPREAD,
    choose_reading,
    classify_mixed,
    cut_features,
    number_answer,
    number_slots,
    reading_features,
    sureness,
)
from shared.number_wire import (
    MAX_STROKES,
    check_stroke_spans,
    checked_any,
    is_number_item,
    unpack_number,
)
from shared.prediction import prediction_dict
from shared.preprocess import InvalidInput
from shared.segment import Slot
from shared.wire import checked


def pred(digit: int, p: float) -> dict[str, Any]:
    probs = np.full(10, (1 - p) / 9)
    probs[digit] = p
    return prediction_dict(probs, 3)


# ---------------------------------------------------------------- choosing a reading
def rule(**named: float) -> tuple[float, ...]:
    """READING_WEIGHTS with only the named features (reading_features' order) non-zero."""
    names = ["sure", "wide", "narrow", "cut_ink", "extra", "cut_width", "cut_apart", "cut",
             "unsure", "least_sure"]
    assert set(named) <= set(names)
    return tuple(named.get(n, 0.0) for n in names)


# cut exactly when wider than high; among cuts, the one the model is surest of
WIDE_ONLY = rule(sure=0.1, cut=-1.0, cut_width=1.0)


def place(width_ratio: float, tall_parts: int = 1) -> Slot:
    return Slot((), width_ratio, (0, 0), tall_parts, line=20.0)


def test_sureness_counts_not_a_digit() -> None:
    row = np.zeros(12)
    row[3], row[10] = 1.0, 0.4  # a sure 3 among the digits, but 60% "not a digit"
    assert sureness(prediction_dict(row, 1)) == pytest.approx(0.4)
    assert sureness(pred(3, 0.9)) == pytest.approx(0.9)  # a 10-class answer: its top


def test_cut_features_weigh_sureness_width_ink_and_count() -> None:
    f = cut_features([pred(4, 0.5), pred(1, 1.0)], [WIDTH_MEAN[4], WIDTH_MEAN[1]], 0.3)
    assert f == pytest.approx([np.log(0.5), 0.0, 0.0, 0.3, 1.0])
    wide = cut_features([pred(4, 1.0)], [WIDTH_MEAN[4] + 2 * WIDTH_SPREAD[4]], 0.0)
    narrow = cut_features([pred(4, 1.0)], [WIDTH_MEAN[4] - WIDTH_SPREAD[4]], 0.0)
    assert wide[1:3] == pytest.approx([-2.0, 0.0]) and narrow[1:3] == pytest.approx([0.0, -0.5])


def test_reading_features_give_a_whole_reading_no_cut_terms() -> None:
    typical = [WIDTH_MEAN[4], WIDTH_MEAN[1]]
    whole = reading_features([pred(4, 0.5)], place(1.2, 2), [WIDTH_MEAN[4]], 0.0)
    cut = reading_features([pred(4, 0.5), pred(1, 1.0)], place(1.2, 2), typical, 0.3)
    assert whole == pytest.approx([np.log(0.5), 0, 0, 0, 0, 0, 0, 0, np.log(0.5), np.log(0.5)])
    # the cut: log p, no width penalty, its ink, one extra digit, the place's width, two tall
    # parts, its bias, log(1 - p), the least sure digit
    assert cut == pytest.approx([np.log(0.5), 0, 0, 0.3, 1, 1.2, 1, 1, np.log(0.5),
                                 np.log(0.5)])


def test_the_rule_weighs_width_parts_ink_and_the_models_sureness() -> None:
    whole, halves = [pred(0, 0.99)], [pred(1, 0.999), pred(1, 0.999)]
    assert choose_reading([whole, halves], place(0.8), weights=WIDE_ONLY) is whole
    assert choose_reading([whole, halves], place(1.2), weights=WIDE_ONLY) is halves
    apart = rule(cut=-0.5, cut_apart=1.0)  # cut when two separate strokes
    assert choose_reading([whole, halves], place(0.8, 2), weights=apart) is halves
    assert choose_reading([whole, halves], place(0.8, 1), weights=apart) is whole
    surer = rule(sure=1.0)  # the reading the model is surer of
    assert choose_reading([whole, halves], place(5.0), weights=surer) is halves
    assert choose_reading([[pred(0, 0.99999)], halves], place(5.0),
                          weights=surer)[0]["digit"] == 0
    thin = rule(cut=0.5, cut_ink=-1.0)  # cut through little ink
    assert choose_reading([whole, halves], place(1.0), [0.0, 0.2], weights=thin) is halves
    assert choose_reading([whole, halves], place(1.0), [0.0, 0.9], weights=thin) is whole


def test_the_width_prior_reads_a_wide_four_as_a_touching_pair() -> None:
    whole, pair = [pred(4, 0.999)], [pred(4, 0.999), pred(1, 0.999)]
    prior_only = rule(cut=-1.0, wide=1.0)  # a cut costs 1; the prior (<= 0) may pay it
    typical = [[WIDTH_MEAN[4]], [WIDTH_MEAN[4], WIDTH_MEAN[1]]]
    too_wide = [[WIDTH_MEAN[4] + 3 * WIDTH_SPREAD[4]], typical[1]]
    assert choose_reading([whole, pair], place(1.0), widths=typical,
                          weights=prior_only) is whole
    assert choose_reading([whole, pair], place(1.0), widths=too_wide, weights=prior_only) is pair


def test_the_surest_cut_is_taken() -> None:
    whole = [pred(8, 0.5)]
    weak, strong = [pred(1, 0.6), pred(7, 0.6)], [pred(1, 0.99), pred(7, 0.98)]
    assert choose_reading([whole, weak, strong], place(1.5), weights=WIDE_ONLY) is strong


def test_a_place_with_no_whole_reading_takes_its_best_cut() -> None:
    two, three = [pred(1, 0.99), pred(7, 0.99)], [pred(1, 0.9), pred(1, 0.9), pred(7, 0.9)]
    assert choose_reading([three, two], place(2.0)) is two
    assert choose_reading([[pred(3, 0.9)]], place(3.0)) == [pred(3, 0.9)]


def test_the_fitted_rule_keeps_a_narrow_sure_digit_and_cuts_a_wide_unsure_one() -> None:
    # the widths as a place of that size gives them: the whole crop is the place, the cuts
    # share it (the fitted rule reads width through the width prior as much as the place's)
    keep = choose_reading([[pred(0, 0.999999)], [pred(1, 0.99), pred(1, 0.99)]], place(0.6),
                          widths=[[0.6], [0.25, 0.25]])
    cut = choose_reading([[pred(8, 0.4)], [pred(1, 0.999), pred(7, 0.999)]], place(1.5),
                         widths=[[1.5], [0.45, 0.8]])
    assert (len(keep), len(cut)) == (1, 2)


# ---------------------------------------------------------------- one forward pass
class Forward:
    """Records its calls; the class of a digit is its top-left pixel modulo 10, surely."""

    def __init__(self) -> None:
        self.calls: list[int] = []

    def __call__(self, digits: np.ndarray) -> tuple[np.ndarray, int]:
        self.calls.append(len(digits))
        probs = np.full((len(digits), 10), 0.001, np.float32)
        probs[np.arange(len(digits)), digits[:, 0, 0] % 10] = 0.991
        return probs, 5


def crop_of() -> np.ndarray:
    """A block of ink: a crop `to_mnist` turns into a digit image."""
    return np.full((20, 12), 255.0, np.float32)


def test_digits_and_numbers_share_one_forward_pass() -> None:
    def slots(item: Any) -> list[Slot]:
        if item == "bad":
            raise InvalidInput("not a number")
        return [Slot(((crop_of(),),), 0.6), Slot(((crop_of(),), (crop_of(), crop_of())), 1.4)]

    def digit(item: Any) -> np.ndarray | None:
        return None if item == 0 else np.full((28, 28), item, np.uint8)

    forward = Forward()
    items = [("n", 1), 7, "bad", 0]
    results = classify_mixed(items, lambda it: isinstance(it, tuple) or it == "bad", digit,
                             slots, forward, version=5, weights=WIDE_ONLY)
    assert forward.calls == [1 + 3 + 1]  # the number's 4 crops and one digit, together
    number, seven, bad, empty = results
    assert len(number["digits"]) == 3  # the wide place was cut (1.4 x the line height)
    assert number["number"] == "".join(str(d["digit"]) for d in number["digits"])
    assert number["model_version"] == 5
    assert all(len(base64.b64decode(d["image28_b64"])) == 784 for d in number["digits"])
    assert seven["digit"] == 7 and "image28_b64" not in seven  # single digits as before
    assert bad == {"error": "not a number"}
    assert empty["digit"] is None and empty["empty"] is True


def test_an_empty_number_is_explicit() -> None:
    assert number_answer([], 4) == {"number": "", "digits": [], "model_version": 4,
                                    "empty": True}
    result = classify_mixed(["x"], lambda _: True, lambda _: None, lambda _: [], Forward(), 4)
    assert result == [number_answer([], 4)]


def test_a_decoder_bug_costs_only_its_item() -> None:
    def boom(item: Any) -> list[Slot]:
        raise ZeroDivisionError

    result = classify_mixed(["x"], lambda _: True, lambda _: None, boom, Forward(), 4)
    assert "could not read" in result[0]["error"]


def test_more_than_max_digits_is_refused() -> None:
    ink = np.zeros((40, 40 * (MAX_DIGITS + 1)), np.float32)
    for k in range(MAX_DIGITS + 1):
        ink[10:30, 40 * k + 18 : 40 * k + 22] = 255.0  # a row of 1s
    with pytest.raises(InvalidInput, match=f"at most {MAX_DIGITS}"):
        number_slots(ink)
    assert len(number_slots(ink[:, : 40 * MAX_DIGITS])) == MAX_DIGITS


# ---------------------------------------------------------------- the wire
PIXELS = [[0] * 16 for _ in range(8)]


def test_plain_items_are_unchanged() -> None:
    assert checked_any({"pixels": PIXELS}) == checked({"pixels": PIXELS})
    assert checked_any({"pixels": PIXELS, "mode": "digit"}) == checked({"pixels": PIXELS})


def test_a_number_item_round_trips() -> None:
    wire = checked_any({"pixels": PIXELS, "mode": "number", "strokes": [[0.1, 0.2], [0, 1]]})
    assert is_number_item(wire) and not is_number_item(checked({"pixels": PIXELS}))
    ink, spans = unpack_number(wire)
    assert ink.shape == (8, 16) and spans == [(0.1, 0.2, 0.0, 1.0), (0.0, 1.0, 0.0, 1.0)]
    assert unpack_number(checked_any({"pixels": PIXELS, "mode": "number"}))[1] is None


@pytest.mark.parametrize(("payload", "needle"), [
    ({"pixels": PIXELS, "mode": "numbers"}, "mode must be"),
    ({"pixels": PIXELS, "mode": 1}, "mode must be"),
    ({"pixels": PIXELS, "strokes": [[0, 1]]}, "only in number mode"),
    ({"pixels": PIXELS, "mode": "digit", "strokes": []}, "only in number mode"),
    ({"pixels": PIXELS, "mode": "number", "strokes": "0,1"}, "list of"),
    ({"pixels": PIXELS, "mode": "number", "strokes": [[0, 1, 2]]}, "x0, x1"),
    ({"pixels": PIXELS, "mode": "number", "strokes": [[0, 1, 0.5, 0.2]]}, "y0 <= y1"),
    ({"pixels": PIXELS, "mode": "number", "strokes": [[0.5, 0.2]]}, "x0 <= x1"),
    ({"pixels": PIXELS, "mode": "number", "strokes": [[0, 1.5]]}, "x0 <= x1"),
    ({"pixels": PIXELS, "mode": "number", "strokes": [[True, 1]]}, "x0, x1"),
    ({"pixels": PIXELS, "mode": "number", "strokes": [[float("nan"), 1]]}, "x0 <= x1"),
    ({"pixels": PIXELS, "mode": "number", "strokes": [[0, 1]] * (MAX_STROKES + 1)},
     "too many strokes"),
    ({"mode": "number"}, "exactly one"),
    ({"pixels": PIXELS, "mode": "number", "colour": "red"}, "unknown field"),
])
def test_bad_number_fields_are_refused(payload: dict[str, Any], needle: str) -> None:
    with pytest.raises(InvalidInput, match=needle):
        checked_any(payload)


@pytest.mark.parametrize("item", [
    {"mode": "number"},
    {"mode": "number", "item": "x"},
    {"mode": "number", "item": {"u8": "AA==", "shape": [1, 1]}},
    {"mode": "number", "item": {"pixels": PIXELS}, "strokes": [[2, 3]]},
    {"mode": "number", "item": {"pixels": PIXELS}, "extra": 1},
])
def test_a_worker_rechecks_number_items(item: dict[str, Any]) -> None:
    with pytest.raises(InvalidInput):
        unpack_number(item)


def test_stroke_spans_accept_ints_floats_and_an_optional_height() -> None:
    assert check_stroke_spans([[0, 1], [0.25, 0.5, 0.1, 0.2]]) == [
        (0.0, 1.0, 0.0, 1.0), (0.25, 0.5, 0.1, 0.2)]
