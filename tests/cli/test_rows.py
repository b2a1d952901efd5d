"""cli.rows.format_row: the one way `predict` and `submit` print a file's answer."""

from __future__ import annotations

import json

from cli.rows import format_row


def test_human_rows() -> None:
    probs = [0.0] * 10
    probs[4] = 0.987
    assert format_row({"file": "a.png", "digit": 4, "probabilities": probs}) == "a.png: 4  (98.7%)"
    assert format_row({"file": "b.png", "digit": None}) == "b.png: empty (nothing drawn)"
    assert format_row({"file": "c.png", "error": "corrupt"}) == "c.png: error: corrupt"


def test_json_rows_keep_every_field() -> None:
    row = {"file": "a.png", "digit": None, "probabilities": [0.0] * 10}
    assert json.loads(format_row(row, as_json=True)) == row


def test_a_rejected_answer_says_so_with_its_best_guess() -> None:
    probs = [0.0] * 10
    probs[4] = 0.9
    row = {"file": "x.png", "digit": 4, "probabilities": probs, "confidence": 0.12,
           "rejected": "not a digit"}
    assert format_row(row) == "x.png: not a digit  (best guess 4, 12.0%)"
    row.update(rejected=None, confidence=0.987)
    assert format_row(row) == "x.png: 4  (98.7%)"
