"""The training recipe: every default of a run in one frozen object, recorded in meta.json."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from shared.model_def import DEFAULT_HPARAMS
from trainer.augment import REAL_WRITING, AugmentConfig
from trainer.data.strokes import RenderConfig

MODES = ("finetune", "scratch")


@dataclass(frozen=True)
class Recipe:
    """How a model is trained from scratch, and how a fine-tune adjusts it.

    A scratch run has two phases. Phase 1 never sees the pen digits, so the pendigits k-fold
    trains it once and only repeats phase 2 per fold: the same recipe at a sixth of the cost.
    """

    epochs: int = 6  # phase 1: MNIST + USPS (+ feedback), from random weights
    pen_epochs: int = 2  # phase 2: the pen drawings joined by a replayed share of phase 1's
    pen_replay: int = 30_000  # phase-1 digits replayed per phase-2 epoch
    pen_learning_rate: float = 5e-4
    batch_size: int = 128
    learning_rate: float = 2e-3  # Adam, cosine-decayed to lr_floor x this over the run
    lr_floor: float = 0.01
    pen_renders: int = 4  # random drawings of each pen digit, rendered once and cached
    pen_per_epoch: int = 2  # of which each phase-2 epoch uses this many (a new pair each time)
    feedback_repeat: int = 5  # feedback is scarce: each drawing appears this often an epoch
    augment: AugmentConfig = REAL_WRITING
    render: RenderConfig = field(default_factory=RenderConfig)
    hparams: dict[str, Any] = field(default_factory=lambda: dict(DEFAULT_HPARAMS))
    seed: int = 1234
    finetune_epochs: int = 2
    finetune_replay: int = 12_000  # training digits rehearsed per fine-tune epoch
    finetune_feedback_repeat: int = 10
    finetune_learning_rate: float = 3e-4

    def as_meta(self, mode: str) -> dict[str, Any]:
        """The settings that shaped a run of `mode`, for meta.json."""
        out = asdict(self)
        out["mode"] = mode
        return out
