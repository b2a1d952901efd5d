"""PNG plots of a training run: loss/accuracy curves and a confusion matrix with counts.

Figures are built with the object API on the Agg canvas (no pyplot global state), so plotting
is safe from worker threads and needs no display.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure


def _save(fig: Figure, path: Path) -> Path:
    """Render `fig` to `path`, creating the folder first."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    FigureCanvasAgg(fig)
    fig.savefig(path, dpi=100, bbox_inches="tight")
    return path


def plot_history(history: Sequence[dict[str, float]], path: Path, title: str = "") -> Path:
    """Plot loss and accuracy per epoch (train, and validation when present) side by side."""
    fig = Figure(figsize=(10, 4))
    epochs = [row.get("epoch", i + 1) for i, row in enumerate(history)]
    for ax, key in zip(fig.subplots(1, 2), ("loss", "accuracy"), strict=True):
        for prefix, label in (("", "train (augmented)"), ("val_", "test")):
            values = [row.get(prefix + key) for row in history]
            if any(v is not None for v in values):
                ax.plot(epochs, [np.nan if v is None else v for v in values], marker="o",
                        label=label)
        ax.set_xlabel("epoch")
        ax.set_ylabel(key)
        ax.grid(alpha=0.3)
        ax.legend()
    fig.suptitle(title or "training curves")
    return _save(fig, path)


def plot_confusion(confusion: np.ndarray, path: Path, title: str = "") -> Path:
    """Plot a 10x10 confusion matrix heatmap (rows true, columns predicted) with counts."""
    fig = Figure(figsize=(7, 6))
    ax = fig.subplots()
    shown = np.log1p(confusion)  # log scale, or the diagonal drowns every error
    image = ax.imshow(shown, cmap="Blues")
    threshold = shown.max() / 2 if shown.size else 0
    for (row, col), count in np.ndenumerate(confusion):
        ax.text(col, row, str(int(count)), ha="center", va="center", fontsize=8,
                color="white" if shown[row, col] > threshold else "black")
    ax.set_xticks(range(10))
    ax.set_yticks(range(10))
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    fig.colorbar(image, ax=ax, label="log(1 + count)")
    ax.set_title(title or "confusion matrix")
    return _save(fig, path)


def plot_misses(digits: np.ndarray, labels: np.ndarray, predicted: np.ndarray, path: Path,
                title: str = "", columns: int = 12) -> Path:
    """A sheet of missed digits, each captioned 'true -> predicted', for a person to look at."""
    n = len(digits)
    rows = max(1, -(-n // columns))
    fig = Figure(figsize=(columns * 0.9, rows * 1.05 + 0.5))
    axes = np.atleast_1d(fig.subplots(rows, columns)).ravel()
    for ax in axes:
        ax.axis("off")
    for ax, digit, true, pred in zip(axes, digits, labels, predicted, strict=False):
        ax.imshow(digit, cmap="gray_r", vmin=0, vmax=255)
        ax.set_title(f"{int(true)} \u2192 {int(pred)}", fontsize=8, color="#b91c1c")
    fig.suptitle(title or f"{n} misses (true \u2192 predicted)")
    return _save(fig, path)
