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
    if held is not None:  # digit accuracy: "not a digit" drawings are not scored here
        held = held.subset(held.y < 10)
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


def calibrate_saved(classifier: Any, workdir: Path, meta: dict[str, Any], recipe: Recipe,
                    data: TrainingData) -> Any:
    """Fit the temperature and thresholds on the held-out digits, record them (and the
    figures on the held-out and generated sets) in meta.json, and reload as served."""
    from trainer.calibrate import calibration_figures, fit_calibration, rounded

    rej = data.rejection
    cal = fit_calibration(classifier, rej["mnist_heldout"], recipe.not_digit_budget,
                          recipe.ambiguous_budget, recipe.not_digit_floor)
    meta["calibration"] = {
        **cal.as_meta(),
        "fitted_on": f"mnist_heldout: {len(rej['mnist_heldout'])} MNIST train digits never "
                     "trained on (temperature by NLL, thresholds by the recipe's budgets)",
        "heldout": rounded(calibration_figures(classifier, cal, rej["mnist_heldout"],
                                               rej.get("negatives_calibration"))),
    }
    test, neg_eval = data.evaluation.get("mnist_test"), rej.get("negatives_eval")
    if test is not None:
        meta["calibration"]["mnist_test"] = rounded(calibration_figures(classifier, cal, test,
                                                                        neg_eval))
    (workdir / META_FILE).write_text(json.dumps(meta, indent=2))
    log.info("calibration: %s", meta["calibration"])
    return saved_classifier(workdir)


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
    classifier = saved_classifier(workdir)
    if classifier.classes > 10 and "mnist_heldout" in data.rejection:
        classifier = calibrate_saved(classifier, workdir, meta, recipe, data)
    scores = score_all(classifier, sets)
    meta["sets"] = {name: s.as_meta() for name, s in scores.items()}
    result = TrainResult(workdir / MODEL_FILE, scores, history, seconds, meta, sets)
    meta["test_accuracy"] = round(result.test_accuracy, 6)
    (workdir / META_FILE).write_text(json.dumps(meta, indent=2))
    log.info("%s run: %s; fit %.0fs, %.0fs in all", mode,
             {n: f"{s.accuracy:.4f}" for n, s in scores.items()}, fit_seconds, seconds)
    return result
