"""The phase-1 cache key (trainer/scratch.py): a cached phase 1 is reused only for the data it
was trained on."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np

from trainer.data.mix import TrainingData
from trainer.data.sets import LabelledSet
from trainer.data.sources import DataPaths
from trainer.recipe import Recipe
from trainer.scratch import _phase1_key

PATHS = DataPaths(Path("/data/mnist"), Path("/data/usps"), Path("/data/pendigits"))


def _data(usps: int) -> TrainingData:
    def digits(name: str, n: int) -> LabelledSet:
        return LabelledSet(name, np.zeros((n, 28, 28), np.uint8), np.zeros(n, np.int64))

    return TrainingData([digits("mnist train", 50), digits("usps train", usps)], None)


def test_the_key_follows_the_usps_set_phase_1_trains_on() -> None:
    recipe = Recipe()
    assert recipe.usps_in_phase1
    key = _phase1_key(recipe, _data(30), PATHS)
    assert key == _phase1_key(recipe, _data(30), PATHS)
    assert key != _phase1_key(recipe, _data(20), PATHS)  # a USPS split held out
    assert key != _phase1_key(recipe, TrainingData(_data(30).train[:1], None), PATHS)
    assert key != _phase1_key(recipe, _data(30), replace(PATHS, usps=Path("/elsewhere")))


def test_without_usps_in_phase_1_the_usps_set_does_not_matter() -> None:
    recipe = replace(Recipe(), usps_in_phase1=False)
    key = _phase1_key(recipe, _data(30), PATHS)
    assert key == _phase1_key(recipe, _data(20), PATHS)
    assert key == _phase1_key(recipe, _data(30), replace(PATHS, usps=Path("/elsewhere")))
    assert key != _phase1_key(replace(recipe, epochs=3), _data(30), PATHS)
