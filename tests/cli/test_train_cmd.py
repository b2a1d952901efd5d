"""`digitflow train` / `eval` as a user runs them: a subprocess against a throwaway store."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np

from cli.train_cmd import format_confusion

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
                          capture_output=True, text=True, timeout=240)


def test_train_then_eval(mnist_dir: Path, tmp_path: Path) -> None:
    plots = tmp_path / "plots"
    done = _run(["train", "--epochs", "1", "--limit", "300", "--activate", "always",
                 "--out", str(plots)], tmp_path, mnist_dir)
    assert done.returncode == 0, done.stderr
    assert "test accuracy:" in done.stdout and "published version 1" in done.stdout
    meta = json.loads((tmp_path / "store" / "versions" / "1" / "meta.json").read_text())
    assert meta["status"] == "active" and 0 <= meta["test_accuracy"] <= 1
    assert meta["data"]["n_train"] == 300 and meta["epochs"] == 1 and len(meta["history"]) == 1
    assert (tmp_path / "store" / "ACTIVE").read_text().strip() == "1"
    assert (plots / "v1-training.png").stat().st_size > 0
    assert (plots / "v1-confusion.png").stat().st_size > 0

    evaluated = _run(["eval", "--out", str(plots)], tmp_path, mnist_dir)
    assert evaluated.returncode == 0, evaluated.stderr
    assert "model version 1: accuracy" in evaluated.stdout and "on 10000" in evaluated.stdout
    assert "true\\pred" in evaluated.stdout
    assert (plots / "eval-v1-confusion.png").stat().st_size > 0


def test_missing_dataset_is_one_line_and_exit_2(tmp_path: Path) -> None:
    for command in ("train", "eval"):
        done = _run([command, "--data", str(tmp_path / "nowhere")], tmp_path)
        assert done.returncode == 2, done.stderr
        assert "Traceback" not in done.stderr
        errors = [line for line in done.stderr.splitlines() if line.startswith("digitflow: ")]
        assert len(errors) == 1 and "does not exist" in errors[0]


def test_format_confusion_has_a_row_per_digit() -> None:
    text = format_confusion(np.eye(10, dtype=np.int64) * 5)
    lines = text.splitlines()
    assert len(lines) == 11 and lines[1].split()[-1] == "100.00%"
