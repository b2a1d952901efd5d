"""Parsing UNIPEN pen digits and splitting writers into folds."""

from __future__ import annotations

import gzip
from pathlib import Path

import numpy as np
import pytest

from trainer.data.pendigits import FILE, PendigitsError, load_pendigits, parse_unipen, writer_folds

SAMPLE = """.INCLUDE dene.doc
.SEGMENT DIGIT    0 ? "8"
.COMMENT 8 12  224
.PEN_DOWN
 267  333
 266  342
.PEN_UP
.PEN_DOWN
 100  100
.PEN_UP
.DT 100
.SEGMENT DIGIT 1-2 ? "4"
.COMMENT 4 7  225
.PEN_DOWN
 1 2
 3 4
 5 6
.PEN_UP
"""


def test_parse_keeps_label_writer_and_strokes() -> None:
    digits = parse_unipen(SAMPLE)
    assert [(d.label, d.writer, len(d.strokes)) for d in digits] == [(8, 12, 2), (4, 7, 1)]
    np.testing.assert_array_equal(digits[0].strokes[0], [[267, 333], [266, 342]])
    assert digits[1].strokes[0].shape == (3, 2)


def test_load_from_a_folder(tmp_path: Path) -> None:
    with gzip.open(tmp_path / FILE, "wt") as fh:
        fh.write(SAMPLE)
    assert len(load_pendigits(tmp_path)) == 2
    with pytest.raises(PendigitsError, match="no pendigits"):
        load_pendigits(tmp_path / "elsewhere")


def test_thirty_writers_make_five_folds_of_six() -> None:
    writers = np.repeat(np.arange(1, 31), 3)
    folds = writer_folds(writers, 5)
    assert [len(f) for f in folds] == [6] * 5
    assert sorted(np.concatenate(folds).tolist()) == list(range(1, 31))


def test_real_file_has_30_writers(tmp_path: Path) -> None:
    folder = Path(__file__).resolve().parents[4] / "shared" / "data" / "pendigits"
    if not (folder / FILE).exists():
        pytest.skip(f"pendigits not found at {folder}")
    digits = load_pendigits(folder)
    assert len(digits) == 7494 and len({d.writer for d in digits}) == 30
    assert {d.label for d in digits} == set(range(10))
