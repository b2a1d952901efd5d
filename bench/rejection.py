"""Rejection methods side by side: why "not a digit" is an 11th class (issue 12).

Every method gets the same budget of held-out real digits it may reject (--budget, chosen on
`mnist_heldout`: MNIST train digits the new model never trained on), then is scored on MNIST
test (real digits wrongly rejected) and on the separate generated evaluation set of
non-digits (`negatives_eval`: other fonts, other seed, cut-offs of MNIST *test* digits):

  max-softmax   reject when the top digit probability is low (Hendrycks & Gimpel 2017)
  energy        reject when -logsumexp(digit logits) is high (Liu et al. 2020); needs logits,
                so only for a single 10-class CNN (the old model)
  11th class    the model's own P(not a digit), calibrated
  served        what the served version does: its 11th class plus "ambiguous", with the
                thresholds stored in its meta.json

    python bench/rejection.py                              # the bundled model
    python bench/rejection.py --compare-dir OLD_MODEL_DIR  # and a 10-class model beside it
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]


def threshold_above(scores_digits: np.ndarray, budget: float) -> float:
    """The score above which `budget` of the held-out digits lie (reject when above)."""
    return float(np.quantile(scores_digits, 1.0 - budget))


def shares(held: np.ndarray, test: np.ndarray, negs: np.ndarray, budget: float
           ) -> tuple[float, float, float]:
    """(held-out, MNIST test, non-digits) rejected, for a 'higher is less digit-like' score."""
    t = threshold_above(held, budget)
    return float((held > t).mean()), float((test > t).mean()), float((negs > t).mean())


def logits_of(model: Any, x: np.ndarray) -> np.ndarray:
    """Pre-softmax outputs of a Sequential CNN: its penultimate features times the last
    layer's kernel (the saved model ends in a softmax)."""
    import keras

    features = keras.Model(model.inputs, model.layers[-2].output)
    kernel, bias = model.layers[-1].get_weights()
    feats = features.predict(x[..., None].astype(np.float32) / 255.0, batch_size=500,
                             verbose=0)
    return feats @ kernel + bias


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--model-dir", default=str(ROOT / "shared" / "bundled"))
    ap.add_argument("--compare-dir", help="a 10-class model folder (model.keras, meta.json)")
    ap.add_argument("--data", default=str(ROOT.parent / "shared" / "data"))
    ap.add_argument("--budget", type=float, default=0.007,
                    help="share of held-out digits each method may reject (default 0.007)")
    args = ap.parse_args()
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    from scipy.special import logsumexp

    from shared.calibration import DIGITS, REJECTED, calibrated, score_rows
    from shared.classifier import Classifier
    from trainer.calibrate import raw_outputs
    from trainer.data.mix import load_training_data
    from trainer.data.sources import resolve_paths
    from trainer.recipe import Recipe

    recipe = Recipe()
    paths = resolve_paths(args.data, {}, ("usps", "pendigits"))
    data = load_training_data(paths, ROOT / "var" / "cache" / "data", recipe.pen_renders,
                              recipe.render, None, recipe.calibration_holdout,
                              recipe.negatives)
    held, test = data.rejection["mnist_heldout"], data.evaluation["mnist_test"]
    negs = data.rejection["negatives_eval"]
    print(f"budget: {args.budget:.2%} of {len(held)} held-out MNIST train digits; scored on "
          f"{len(test)} MNIST test digits and {len(negs)} generated non-digits")
    print(f"{'model':<12}{'method':<16}{'held-out':>10}{'MNIST test':>12}{'non-digits':>12}")

    def row(model: str, method: str, figs: tuple[float, float, float]) -> None:
        print(f"{model:<12}{method:<16}{figs[0]:>10.2%}{figs[1]:>12.2%}{figs[2]:>12.2%}")

    new = Classifier(Path(args.model_dir))
    raws = [raw_outputs(new, s.x) for s in (held, test, negs)]
    cal = new.calibration
    ps = [calibrated(r, cal.temperature) for r in raws]
    msp = [-(p[:, :DIGITS] / p[:, :DIGITS].sum(axis=1, keepdims=True)).max(axis=1) for p in ps]
    row("new", "max-softmax", shares(*msp, args.budget))
    if new.classes > DIGITS:
        row("new", "11th class", shares(*[p[:, DIGITS] for p in ps], args.budget))
        served = [float((score_rows(r, cal)[:, REJECTED] > 0).mean()) for r in raws]
        row("new", "served", (served[0], served[1], served[2]))
    if args.compare_dir:
        old = Classifier(Path(args.compare_dir))
        raws = [raw_outputs(old, s.x) for s in (held, test, negs)]
        row("old", "max-softmax", shares(*[-r[:, :DIGITS].max(axis=1) for r in raws],
                                         args.budget))
        energies = [-logsumexp(logits_of(old.model, s.x), axis=1) for s in (held, test, negs)]
        row("old", "energy", shares(*energies, args.budget))
        print("(the old model trained on all of MNIST train, the held-out digits included: "
              "its thresholds are set on digits it has seen)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
