"""Scratch and fine-tune runs on a few hundred digits of every source: the whole path from the
data folders to a scored, described model file (the figures are meaningless at this size)."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from tests.utils.training_builders import bar_digits
from trainer.data.feedback import held_out_mask
from trainer.data.sources import resolve_paths
from trainer.finetune import train_finetune
from trainer.recipe import Recipe
from trainer.scratch import train_scratch

TINY = replace(Recipe(), epochs=1, pen_epochs=1, pen_replay=200, finetune_epochs=1,
               finetune_replay=200)


@pytest.fixture(scope="module")
def scratch(mnist_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> object:
    paths = resolve_paths(mnist_dir, {})
    if paths.usps is None or paths.pendigits is None:
        pytest.skip("USPS and pendigits are not beside MNIST")
    seen: list[tuple[int, int]] = []
    workdir = tmp_path_factory.mktemp("scratch")
    result = train_scratch(paths, TINY, workdir, None, bar_digits(40), limit=300,
                           on_epoch=lambda e, n, _m: seen.append((e, n)), progress=False)
    return result, seen, paths


def test_scratch_run_has_both_phases_and_scores_every_set(scratch: tuple) -> None:
    result, seen, _ = scratch
    assert seen == [(1, 2), (2, 2)]  # phase 1 then phase 2, numbered as one run
    assert [h.get("phase") for h in result.history] == [None, 2]
    assert result.model_file.exists() and result.model_file.stat().st_size < 5 * 1024 * 1024
    assert {"mnist_test", "usps_test", "pendigits_train_writers"} <= set(result.scores)
    assert result.scores["mnist_test"].n == 1000 and result.scores["usps_test"].n == 1000
    meta = result.meta
    assert meta["mode"] == "scratch" and meta["recipe"]["epochs"] == 1
    assert set(meta["sets"]) == set(result.scores)
    assert len(meta["sets"]["usps_test"]["per_class"]) == 10
    held = int(held_out_mask(bar_digits(40)[0]).sum())
    assert meta["data"]["n_feedback_heldout"] == held
    assert meta["data"]["n_feedback_train"] == 40 - held


def test_fine_tune_starts_from_a_model_and_reports_held_out_feedback(
        scratch: tuple, tmp_path: Path) -> None:
    base, _, paths = scratch
    images, labels = bar_digits(60, seed=3)
    result = train_finetune(paths, TINY, base.model_file.parent, tmp_path, None,
                            (images, labels), limit=300, progress=False)
    assert result.meta["mode"] == "finetune" and len(result.history) == 1
    assert result.meta["data"]["base_model"] == str(base.model_file.parent)
    assert "feedback_heldout" in result.scores
    assert result.scores["feedback_heldout"].n == int(held_out_mask(images).sum())
    assert np.isfinite(result.history[0]["loss"])
