"""`digitflow train` / `eval` as a user runs them: a subprocess against a throwaway store."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from cli.train_cmd import format_scores
from trainer.recipe import Recipe

REPO = Path(__file__).resolve().parents[2]


def _run(
    args: list[str], tmp_path: Path, mnist_dir: Path | None = None
) -> subprocess.CompletedProcess:
    """Run `python -m cli.main ARGS` from the repo with a private store and caches."""
    env = {**os.environ, "MODEL_STORE": str(tmp_path / "store"),
           "MODEL_CACHE": str(tmp_path / "cache" / "models"), "TF_CPP_MIN_LOG_LEVEL": "2"}
    env.pop("MNIST_DIR", None)
    if mnist_dir is not None:
        env["MNIST_DIR"] = str(mnist_dir)
    return subprocess.run([sys.executable, "-m", "cli.main", *args], cwd=REPO, env=env,
                          capture_output=True, text=True, timeout=900)  # a guard, not a figure


@pytest.mark.timeout(1800)  # the ensemble's smoke training on a shared 2-core machine
def test_train_then_eval(mnist_dir: Path, tmp_path: Path) -> None:
    plots = tmp_path / "plots"
    done = _run(["train", "--epochs", "1", "--limit", "300", "--activate", "always",
                 "--out", str(plots)], tmp_path, mnist_dir)
    assert done.returncode == 0, done.stderr
    assert "mnist_test" in done.stdout and "published version 1" in done.stdout
    meta = json.loads((tmp_path / "store" / "versions" / "1" / "meta.json").read_text())
    assert meta["status"] == "active" and 0 <= meta["test_accuracy"] <= 1
    # a fifth of the 300 (at most 5,000) is held out to fit the calibration, never trained on
    sizes = meta["data"]["sizes"]
    assert sizes["mnist train"] == 240 and sizes["mnist_heldout"] == 60
    assert meta["mode"] == "scratch" and meta["calibration"]["temperature"] > 0
    assert len(meta["history"]) == 1 + Recipe().pen_epochs  # --epochs sets phase 1's
    assert {"mnist_test", "usps_test", "pendigits_train_writers"} <= set(meta["sets"])
    assert (tmp_path / "store" / "ACTIVE").read_text().strip() == "1"
    assert (plots / "v1-training.png").stat().st_size > 0
    assert (plots / "v1-usps_test-confusion.png").stat().st_size > 0
    assert (plots / "v1-mnist_test-misses.png").stat().st_size > 0

    evaluated = _run(["eval", "--limit", "300", "--out", str(plots)], tmp_path, mnist_dir)
    assert evaluated.returncode == 0, evaluated.stderr
    lines = evaluated.stdout.splitlines()
    assert lines[0] == "model version 1:"
    for name in ("mnist_test", "usps_test", "pendigits_train_writers"):
        row = next(line for line in lines if line.startswith(name)).split()
        assert row[2] == "1000" if name != "pendigits_train_writers" else int(row[2]) > 0
        assert len(row) == 4 + 10  # name, accuracy, n, errors, then one figure per digit
        assert (plots / f"eval-v1-{name}-confusion.png").stat().st_size > 0


def test_a_source_can_be_left_out(mnist_dir: Path, tmp_path: Path) -> None:
    done = _run(["eval", "--limit", "100", "--without", "usps", "--without", "pendigits",
                 "--out", str(tmp_path / "plots")], tmp_path, mnist_dir)
    assert done.returncode == 0, done.stderr
    assert "mnist_test" in done.stdout and "usps_test" not in done.stdout


def test_missing_dataset_is_one_line_and_exit_2(tmp_path: Path) -> None:
    for command in ("train", "eval"):
        done = _run([command, "--data", str(tmp_path / "nowhere")], tmp_path)
        assert done.returncode == 2, done.stderr
        assert "Traceback" not in done.stderr
        errors = [line for line in done.stderr.splitlines() if line.startswith("digitflow: ")]
        assert len(errors) == 1 and "does not exist" in errors[0]


def test_format_scores_has_per_class_figures() -> None:
    from trainer.evaluate import SetScore

    confusion = np.eye(10, dtype=np.int64) * 5
    confusion[3, 5] = 5
    score = SetScore("usps_test", 50 / 55, 55, confusion, np.zeros(55))
    row = format_scores({"usps_test": score}).splitlines()[1].split()
    assert row[:4] == ["usps_test", "90.91%", "55", "5"] and row[4 + 3] == "50.0"
