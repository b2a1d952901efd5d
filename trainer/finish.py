"""The end of every run: save the inference copy, score it on every set, write meta.json."""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

from shared.model_store import META_FILE, MODEL_FILE
from trainer.data.feedback import MIN_GATED
from trainer.data.mix import TrainingData
from trainer.data.sets import LabelledSet
from trainer.data.sources import DataPaths
from trainer.evaluate import saved_classifier, score_all
from trainer.fit import save_inference_copy
from trainer.recipe import Recipe
from trainer.result import TrainResult

log = logging.getLogger(__name__)


def evaluation_sets(data: TrainingData, feedback: dict[str, LabelledSet]
                    ) -> dict[str, LabelledSet]:
    """Every set a run is scored on: the sources' sets plus the held-out feedback."""
    sets = dict(data.evaluation)
    held = feedback.get("feedback_heldout")
    if held is not None and len(held):
        sets["feedback_heldout"] = held
    return sets


def build_meta(recipe: Recipe, mode: str, data: TrainingData, paths: DataPaths,
               feedback: dict[str, LabelledSet], history: list[dict[str, float]],
               fit_seconds: float, extra: dict[str, Any]) -> dict[str, Any]:
    """Provenance of a run; the scores are added once the saved model is scored."""
    return {
        "mode": mode,
        "data": {"folders": paths.describe(), "sizes": data.sizes(),
                 "n_feedback": sum(len(s) for s in feedback.values()),
                 "n_feedback_train": len(feedback["feedback_train"]),
                 "n_feedback_heldout": len(feedback["feedback_heldout"]),
                 "feedback_gated_from": MIN_GATED,
                 "preprocessing": "shared.preprocess.to_mnist_batch", **extra},
        "recipe": recipe.as_meta(mode),
        "hyperparameters": recipe.hparams,
        "epochs": len(history),
        "train_seconds": round(fit_seconds, 1),
        "history": history,
        "history_note": "val_loss/val_accuracy per epoch are on the MNIST test set "
                        "(shown only, never used to choose anything)",
    }


def finish_run(model: Any, recipe: Recipe, mode: str, workdir: Path, data: TrainingData,
               paths: DataPaths, feedback: dict[str, LabelledSet],
               history: list[dict[str, float]], fit_seconds: float, seconds: float,
               extra: dict[str, Any]) -> TrainResult:
    """Save, score through Classifier (the serving path) and record everything."""
    workdir = Path(workdir)
    workdir.mkdir(parents=True, exist_ok=True)
    save_inference_copy(model, recipe.hparams, workdir / MODEL_FILE)
    meta = build_meta(recipe, mode, data, paths, feedback, history, fit_seconds, extra)
    meta["params"] = int(model.count_params())
    (workdir / META_FILE).write_text(json.dumps(meta, indent=2))
    sets = evaluation_sets(data, feedback)
    scores = score_all(saved_classifier(workdir), sets)
    meta["sets"] = {name: s.as_meta() for name, s in scores.items()}
    result = TrainResult(workdir / MODEL_FILE, scores, history, seconds, meta, sets)
    meta["test_accuracy"] = round(result.test_accuracy, 6)
    (workdir / META_FILE).write_text(json.dumps(meta, indent=2))
    log.info("%s run: %s; fit %.0fs, %.0fs in all", mode,
             {n: f"{s.accuracy:.4f}" for n, s in scores.items()}, fit_seconds, seconds)
    return result
