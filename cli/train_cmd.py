"""`digitflow train` and `digitflow eval`: thin wrappers that print what `trainer/` does.

User errors (no dataset, unknown version) print one line to stderr and exit with status 2;
TensorFlow is only imported once the command actually needs it. These are entry points: they
read settings and the environment and hand explicit values to the trainer.
"""

from __future__ import annotations

import os
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

USAGE_ERROR = 2
MISSES_SHOWN = 60


def _fail(message: str) -> int:
    """Print a one-line error and return the usage-error exit code."""
    print(f"digitflow: error: {message}", file=sys.stderr)
    return USAGE_ERROR


def format_scores(scores: dict[str, Any]) -> str:
    """One line per set: accuracy, size, errors, and per-class accuracy."""
    lines = [f"{'set':<26}{'accuracy':>9}{'n':>7}{'errors':>7}  per class 0..9"]
    for name, s in scores.items():
        per = " ".join("  -  " if p is None else f"{100 * p:5.1f}" for p in s.per_class())
        lines.append(f"{name:<26}{s.accuracy:>9.2%}{s.n:>7}{s.n - int(np.trace(s.confusion)):>7}"
                     f"  {per}")
    return "\n".join(lines)


def _paths(data: str | None, off: Sequence[str]) -> Any:
    """Each source's folder from --data and the environment (MNIST_DIR, USPS_DIR, ...)."""
    from shared.settings import get_settings
    from trainer.data.sources import resolve_paths

    return resolve_paths(data or get_settings().mnist_dir, os.environ, off)


def _user_errors() -> tuple[type[Exception], ...]:
    """Exceptions that mean 'fix your data', not 'bug'."""
    from shared.mnist import DatasetError
    from trainer.data.pendigits import PendigitsError
    from trainer.data.sources import DataSourceError
    from trainer.data.usps import UspsError

    return (DatasetError, DataSourceError, UspsError, PendigitsError)


def save_set_plots(scores: dict[str, Any], sets: dict[str, Any], out: Path, prefix: str
                   ) -> list[Path]:
    """A confusion-matrix PNG per set and one sheet of a sample of each set's misses."""
    from trainer.evaluate import sample_misses
    from trainer.plots import plot_confusion, plot_misses

    written = []
    for name, s in scores.items():
        written.append(plot_confusion(s.confusion, out / f"{prefix}-{name}-confusion.png",
                                      title=f"{prefix} {name}: {s.accuracy:.2%} of {s.n}"))
        if s.n - np.trace(s.confusion):
            x, y, p = sample_misses(sets[name], s, MISSES_SHOWN)
            written.append(plot_misses(x, y, p, out / f"{prefix}-{name}-misses.png",
                                       title=f"{prefix} {name}: {len(x)} of "
                                             f"{s.n - int(np.trace(s.confusion))} misses "
                                             f"(true \u2192 predicted)"))
    return written


def train(data: str | None, epochs: int | None, limit: int | None, out: str,
          activate: str = "gate", mode: str = "scratch", off: Sequence[str] = (),
          phase1_from: str | None = None) -> int:
    """Train with a progress bar, publish through the gate, and save the plots."""
    from shared.model_store import ModelStore
    from shared.settings import get_settings
    from trainer.jobs import run_training, with_epochs
    from trainer.plots import plot_history
    from trainer.publish import publish_with_gate
    from trainer.recipe import Recipe

    settings = get_settings()
    store = ModelStore(settings.model_store)
    try:
        paths = _paths(data, off)
        with tempfile.TemporaryDirectory(prefix="digitflow-train-") as workdir:
            result = run_training(mode, paths, with_epochs(Recipe(), mode, epochs), store,
                                  Path(workdir), settings.model_cache, limit=limit,
                                  phase1_from=Path(phase1_from) if phase1_from else None)
            version, status, reason = publish_with_gate(store, result, activate,
                                                        settings.model_cache)
    except _user_errors() as exc:
        return _fail(str(exc))
    out_dir = Path(out)
    curves = plot_history(result.history, out_dir / f"v{version}-training.png",
                          title=f"model version {version} ({mode})")
    plots = save_set_plots(result.scores, result.eval_sets, out_dir, f"v{version}")
    print(format_scores(result.scores))
    print(f"{mode}: {result.meta['epochs']} epochs, fit {result.meta['train_seconds']:.0f}s, "
          f"{result.seconds:.0f}s in all")
    print(f"plots: {curves} " + " ".join(map(str, plots)))
    print(f"published version {version} to {store.url}: {status}"
          + (f" ({reason})" if reason else ""))
    return 0


def evaluate(data: str | None, version: int | None, out: str, kfold: bool = False,
             folds: int = 5, epochs: int | None = None, off: Sequence[str] = (),
             limit: int | None = None, phase1_from: str | None = None) -> int:
    """Score a stored version (default: active) on every visible set; with `kfold`, also train
    one model per pendigits writer fold and report the held-out figure."""
    from shared.classifier import load_classifier
    from shared.model_store import ModelStore, StoreError
    from shared.settings import get_settings
    from trainer.data.mix import load_training_data
    from trainer.jobs import data_cache_dir, with_epochs
    from trainer.recipe import Recipe

    settings = get_settings()
    recipe = with_epochs(Recipe(), "scratch", epochs)
    try:
        paths = _paths(data, off)
        data = load_training_data(paths, data_cache_dir(settings.model_cache),
                                  recipe.pen_renders, recipe.render, limit,
                                  recipe.calibration_holdout, recipe.negatives)
        sets = data.evaluation
    except _user_errors() as exc:
        return _fail(str(exc))
    store = ModelStore(settings.model_store)
    try:
        version = version if version is not None else store.ensure_seeded()
        classifier = load_classifier(store, version, settings.model_cache)
    except StoreError as exc:
        return _fail(str(exc))
    from trainer.evaluate import score_all

    scores = score_all(classifier, sets)
    print(f"model version {version}:")
    print(format_scores(scores))
    if "pendigits_train_writers" in scores:
        print("(pendigits_train_writers: the 30 writers a full model trained on, drawn plainly "
              "with the page's brush; --pendigits-kfold measures unseen writers)")
    if classifier.classes > 10 and "mnist_test" in sets:
        print(format_rejection(classifier, sets["mnist_test"], data.rejection))
    plots = save_set_plots(scores, sets, Path(out), f"eval-v{version}")
    if kfold:
        plots += _kfold(paths, recipe, folds, Path(out), data_cache_dir(settings.model_cache),
                        limit, Path(phase1_from) if phase1_from else None)
    print("plots: " + " ".join(map(str, plots)))
    return 0


def _num(value: float | None) -> str:
    return "none" if value is None else f"{value:.3f}"


def format_rejection(classifier: Any, mnist_test: Any, rejection: dict[str, Any]) -> str:
    """Issue 12's figures: how much of each set is rejected, and the calibration error on
    MNIST test before and after the version's temperature."""
    from trainer.calibrate import calibration_figures

    cal = classifier.calibration
    test = calibration_figures(classifier, cal, mnist_test, rejection.get("negatives_eval"))
    lines = [f"rejection and calibration: temperature {cal.temperature:.3f}, not a digit at "
             f"P >= {_num(cal.not_digit)}, ambiguous below confidence {_num(cal.ambiguous)}",
             f"{'set':<40}{'n':>7}{'rejected':>10}{'not a digit':>13}{'ambiguous':>11}"]

    def row(name: str, n: int, shares: dict[str, float]) -> str:
        return (f"{name:<40}{n:>7}{shares['rejected']:>10.2%}{shares['not a digit']:>13.2%}"
                f"{shares['ambiguous']:>11.2%}")

    lines.append(row("mnist_test (digits)", test["n"], test["digits_rejected"]))
    if "negatives_n" in test:
        lines.append(row("negatives_eval (non-digits, held out)", test["negatives_n"],
                         test["negatives_rejected"]))
    held = rejection.get("mnist_heldout")
    if held is not None and len(held):
        h = calibration_figures(classifier, cal, held, rejection.get("negatives_calibration"))
        lines.append(row("mnist_heldout (fits calibration)", h["n"], h["digits_rejected"]))
        if "negatives_n" in h:
            lines.append(row("negatives_calibration (non-digits)", h["negatives_n"],
                             h["negatives_rejected"]))
    lines.append(f"MNIST test expected calibration error (15 bins): {test['ece_before']:.2%} "
                 f"before the temperature, {test['ece_after']:.2%} after; accuracy of the "
                 f"digits not rejected {test['accuracy_of_accepted']:.2%}")
    return "\n".join(lines)


def _kfold(paths: Any, recipe: Any, folds: int, out: Path, cache: Path, limit: int | None,
           phase1_from: Path | None) -> list[Path]:
    """Train one model per writer fold, print the pooled held-out figure, plot it."""
    from trainer.kfold import pendigits_kfold

    results, total, pooled = pendigits_kfold(paths, recipe, cache, folds, limit,
                                             phase1_from=phase1_from)
    for i, f in enumerate(results):
        print(f"fold {i + 1}/{folds}: writers {f.writers}: {f.score.accuracy:.2%} of "
              f"{f.score.n} (trained {f.train_seconds:.0f}s)")
    print(f"pendigits {folds}-fold by writer (phase 2 of the recipe per fold"
          + (f", phase 1 from {phase1_from}):" if phase1_from else "):"))
    print(format_scores({"pendigits_kfold": total}))
    return save_set_plots({"pendigits_kfold": total}, {"pendigits_kfold": pooled}, out, "kfold")
