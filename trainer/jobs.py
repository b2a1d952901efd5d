"""One training run of either mode, as the CLI and the Celery task both start it.

Entry points read settings and the environment and pass explicit values in; nothing here
reads configuration.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from shared.model_store import ModelStore
from trainer.data.sources import DataPaths
from trainer.fit import EpochHook
from trainer.recipe import MODES, Recipe
from trainer.result import TrainResult


def data_cache_dir(model_cache: str | os.PathLike) -> Path:
    """Prepared data sits beside the model cache (var/cache/data by default)."""
    return Path(model_cache).parent / "data"


def run_training(mode: str, paths: DataPaths, recipe: Recipe, store: ModelStore,
                 workdir: Path, model_cache: str | os.PathLike,
                 feedback: tuple[np.ndarray, np.ndarray] | None = None,
                 limit: int | None = None, on_epoch: EpochHook | None = None,
                 progress: bool = True, phase1_from: Path | None = None) -> TrainResult:
    """Train in `mode` ('finetune' starts from the store's active version)."""
    if mode not in MODES:
        raise ValueError(f"mode must be one of {', '.join(MODES)}, not {mode!r}")
    cache = data_cache_dir(model_cache)
    if mode == "scratch":
        from trainer.scratch import train_scratch

        return train_scratch(paths, recipe, workdir, cache, feedback, limit, on_epoch, progress,
                             phase1_from=phase1_from)
    from trainer.finetune import train_finetune

    base = store.fetch(store.ensure_seeded(), model_cache)
    return train_finetune(paths, recipe, base, workdir, cache, feedback, limit, on_epoch,
                          progress)


def with_epochs(recipe: Recipe, mode: str, epochs: int | None) -> Recipe:
    """The recipe with the mode's epoch count replaced when one is asked for."""
    from dataclasses import replace

    if epochs is None:
        return recipe
    return replace(recipe, **{"epochs" if mode == "scratch" else "finetune_epochs": epochs})
