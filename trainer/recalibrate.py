"""Refit a saved version's calibration with the current recipe, without retraining it.

The temperature and the rejection thresholds are choices made over held-out data, not
weights: when the recipe's budgets change, a published or bundled version can take the new
ones in seconds. `--sweep` prints the validation table the recipe's budgets were chosen
from: only validation data (MNIST train digits never trained on, and the generated
`negatives_calibration` set), never a test set.

    python -m trainer.recalibrate shared/bundled            # refit, rewrite its meta.json
    python -m trainer.recalibrate shared/bundled --sweep    # the table behind the budgets
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

import numpy as np

from shared.model_store import META_FILE
from trainer.data.mix import TrainingData, negative_sets, split_holdout
from trainer.data.sets import mnist_sets
from trainer.data.sources import resolve_paths
from trainer.recipe import Recipe

SWEEP_SHARES = tuple(round(s, 1) for s in np.linspace(0.0, 1.0, 11))
SWEEP_FLOORS = (0.5, 0.0)


def rejection_data(data_root: str | None, recipe: Recipe, cache_dir: Path | None
                   ) -> TrainingData:
    """MNIST test, the held-out MNIST train digits and both generated non-digit sets: the
    same digits and drawings a training run calibrates and reports on."""
    paths = resolve_paths(data_root, os.environ, ("usps", "pendigits"))
    train, test = mnist_sets(paths.mnist, cache_dir)
    train, held = split_holdout(train, recipe.calibration_holdout)
    return TrainingData([], None, evaluation={"mnist_test": test},
                        rejection={"mnist_heldout": held,
                                   **negative_sets(train, test, cache_dir)})


def sweep_rows(raw_held: np.ndarray, raw_negatives: np.ndarray, temperature: float,
               budget: float) -> list[tuple[float, float, float, float, float, float]]:
    """(not-a-digit share of the budget, floor, both thresholds, held-out digits rejected,
    non-digits rejected) for every split of `budget` and floor."""
    from shared.calibration import REJECTED, choose_thresholds, score_rows

    rows = []
    for floor in SWEEP_FLOORS:
        for share in SWEEP_SHARES:
            cal = choose_thresholds(raw_held, temperature, max(share * budget, 1e-9),
                                    max((1 - share) * budget, 1e-9), floor)
            held, negs = ((score_rows(r, cal)[:, REJECTED] > 0).mean()
                          for r in (raw_held, raw_negatives))
            rows.append((share, floor, float(cal.not_digit or 0.0), float(cal.ambiguous or 0.0),
                         float(held), float(negs)))
    return rows


def print_sweep(classifier: object, data: TrainingData, recipe: Recipe) -> None:
    from shared.calibration import fit_temperature
    from trainer.calibrate import raw_outputs

    held, negs = data.rejection["mnist_heldout"], data.rejection["negatives_calibration"]
    raw_held, raw_negs = raw_outputs(classifier, held.x), raw_outputs(classifier, negs.x)
    temperature = fit_temperature(raw_held, held.y)
    budget = recipe.not_digit_budget + recipe.ambiguous_budget
    print(f"validation only: {len(held)} held-out MNIST train digits, {len(negs)} generated "
          f"non-digits (negatives_calibration); T = {temperature:.3f}; budget {budget:.2%}")
    print(f"{'not-a-digit share':>18}{'floor':>7}{'P(nd) >=':>10}{'conf <':>8}"
          f"{'digits rejected':>17}{'non-digits rejected':>21}")
    for share, floor, t_nd, t_amb, h, n in sweep_rows(raw_held, raw_negs, temperature, budget):
        print(f"{share:>18.1f}{floor:>7.1f}{t_nd:>10.3f}{t_amb:>8.3f}{h:>17.2%}{n:>21.2%}")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m trainer.recalibrate", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("model_dir", help="a version folder (model.keras + meta.json)")
    ap.add_argument("--data", help="data root or MNIST folder (default $MNIST_DIR)")
    ap.add_argument("--cache", default="var/cache/data", help="prepared-data cache")
    ap.add_argument("--sweep", action="store_true",
                    help="print the validation table instead of refitting")
    args = ap.parse_args(argv)
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    from shared.classifier import Classifier
    from trainer.finish import calibrate_saved

    folder, recipe = Path(args.model_dir), Recipe()
    data = rejection_data(args.data, recipe, Path(args.cache))
    classifier = Classifier(folder)
    if args.sweep:
        print_sweep(classifier, data, recipe)
        return 0
    meta = json.loads((folder / META_FILE).read_text())
    budgets = {k: getattr(recipe, k) for k in
               ("not_digit_budget", "ambiguous_budget", "not_digit_floor")}
    meta.setdefault("recipe", {}).update(budgets)
    meta["recalibrated"] = {"at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
                            "by": "python -m trainer.recalibrate", **budgets}
    calibrate_saved(classifier, folder, meta, recipe, data)
    cal = json.loads((folder / META_FILE).read_text())["calibration"]
    print(json.dumps({k: cal[k] for k in ("temperature", "not_digit", "ambiguous")}))
    for name in ("heldout", "mnist_test"):
        figs = cal.get(name, {})
        print(f"{name}: digits rejected {figs['digits_rejected']['rejected']:.2%}, "
              f"non-digits rejected {figs.get('negatives_rejected', {}).get('rejected', 0):.2%}"
              f", ECE {figs['ece_after']:.2%}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
