"""`digitflow predict`, `models` and `activate` as a user runs them (subprocesses, real model)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
from PIL import Image

from shared.mnist import load_mnist

REPO = Path(__file__).resolve().parents[2]


def _run(args: list[str], tmp_path: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "MODEL_STORE": str(tmp_path / "store"),
           "MODEL_CACHE": str(tmp_path / "cache"), "REDIS_URL": "redis://127.0.0.1:1/0"}
    return subprocess.run([sys.executable, "-m", "cli.main", *args], cwd=REPO, env=env,
                          capture_output=True, text=True, timeout=120)


def _user_drawing(digit: np.ndarray, path: Path) -> Path:
    """Black ink on a white 200x200 page, off-centre: how people draw in a paint program."""
    page = np.full((200, 200), 255, np.uint8)
    big = np.asarray(Image.fromarray(255 - digit).resize((112, 112), Image.Resampling.BICUBIC))
    page[70:182, 10:122] = big
    Image.fromarray(page).save(path)
    return path


def test_predict_user_drawn_pngs_jpeg_npy_in_order(mnist_dir: Path, tmp_path: Path) -> None:
    test = load_mnist("test", mnist_dir)
    files = [_user_drawing(test.images[i], tmp_path / f"d{i}.png") for i in range(6)]
    Image.open(files[0]).convert("L").save(tmp_path / "d0.jpg", quality=90)
    np.save(tmp_path / "d6.npy", test.images[6])
    (tmp_path / "broken.png").write_bytes(b"\x89PNG\r\n\x1a\nnope")
    Image.new("L", (64, 64), 255).save(tmp_path / "blank.png")
    others = ("d0.jpg", "d6.npy", "broken.png", "missing.png", "blank.png")
    args = [str(p) for p in files] + [str(tmp_path / n) for n in others]
    done = _run(["predict", *args, "--json"], tmp_path)
    assert done.returncode == 1, done.stderr  # some files failed, the rest still ran
    rows = [json.loads(line) for line in done.stdout.splitlines()]
    assert [r["file"] for r in rows] == args
    expected = [int(test.labels[i]) for i in range(6)] + [int(test.labels[0]), int(test.labels[6])]
    assert [r["digit"] for r in rows[:8]] == expected
    assert all(r["model_version"] == 1 and len(r["probabilities"]) == 10 for r in rows[:8])
    assert "corrupt" in rows[8]["error"] and "cannot read" in rows[9]["error"]
    assert rows[10]["digit"] is None


def test_predict_human_output(mnist_dir: Path, tmp_path: Path) -> None:
    test = load_mnist("test", mnist_dir)
    path = _user_drawing(test.images[0], tmp_path / "seven.png")
    done = _run(["predict", str(path)], tmp_path)
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith(f"{path}: {int(test.labels[0])}  (")


def test_models_and_activate(tmp_path: Path) -> None:
    from shared.model_store import BUNDLED_DIR, MODEL_FILE, ModelStore

    store = ModelStore(str(tmp_path / "store"))
    store.ensure_seeded()
    store.publish(BUNDLED_DIR / MODEL_FILE, {"test_accuracy": 0.5, "status": "rejected",
                                             "reason": "below the gate"})
    listing = _run(["models"], tmp_path)
    assert listing.returncode == 0
    lines = listing.stdout.splitlines()
    assert lines[1].startswith("*") and "active" in lines[1]
    assert "rejected" in lines[2] and "50.00%" in lines[2]
    done = _run(["activate", "2"], tmp_path)
    assert done.returncode == 0 and "no Redis" in done.stdout
    assert store.active() == 2
    assert _run(["activate", "9"], tmp_path).returncode == 2
    assert _run(["activate", "1"], tmp_path).returncode == 0 and store.active() == 1


def test_help_is_quick_and_lists_every_command() -> None:
    done = subprocess.run([sys.executable, "-m", "cli.main", "--help"], cwd=REPO,
                          capture_output=True, text=True, timeout=30)
    for command in ("up", "web", "worker", "trainer", "train", "predict", "submit", "models",
                    "activate", "eval"):
        assert command in done.stdout
    probe = subprocess.run([sys.executable, "-c", "import sys, cli.main, webapp; "
                            "from webapp import create_app; print('tensorflow' in sys.modules)"],
                           cwd=REPO, capture_output=True, text=True, timeout=60)
    assert probe.stdout.strip() == "False", "the CLI entry and the web app must not import TF"


def test_predict_number_reads_whole_numbers(mnist_dir: Path, tmp_path: Path) -> None:
    """`--number`: a black-on-white PNG of "2026" and a blank page, as JSON and as text."""
    from devtools.compose import compose_mnist

    test = load_mnist("test", mnist_dir)
    first = {d: int(np.flatnonzero(test.labels == d)[0]) for d in range(10)}
    ink = compose_mnist(test.images[[first[2], first[0], first[2], first[6]]], [4, 3, 5])
    page = 255 - np.kron(np.clip(ink, 0, 255).astype(np.uint8), np.ones((4, 4), np.uint8))
    Image.fromarray(page).save(tmp_path / "year.png")
    Image.new("L", (200, 60), 255).save(tmp_path / "blank.png")
    files = [str(tmp_path / "year.png"), str(tmp_path / "blank.png")]
    done = _run(["predict", "--number", "--json", *files], tmp_path)
    assert done.returncode == 0, done.stderr
    year, blank = (json.loads(line) for line in done.stdout.splitlines())
    assert year["file"] == files[0] and year["number"] == "2026"
    assert [d["digit"] for d in year["digits"]] == [2, 0, 2, 6]
    assert all(len(d["probabilities"]) == 10 and d["image28_b64"] for d in year["digits"])
    assert blank == {"file": files[1], "number": "", "digits": [], "model_version": 1,
                     "empty": True}
    text = _run(["predict", "--number", files[0]], tmp_path)
    assert text.stdout.startswith(f"{files[0]}: 2026  (2:")
