"""The gate's tolerance: binomial noise of the difference of two accuracies on n items."""

from __future__ import annotations

import math

import pytest

from trainer.gate import Z, tolerance, worse_sets


def test_tolerance_is_z_standard_errors_of_a_difference() -> None:
    assert tolerance(0.996, 10_000) == pytest.approx(Z * math.sqrt(2 * 0.996 * 0.004 / 10_000))
    assert tolerance(0.996, 10_000) == pytest.approx(0.00179, abs=1e-5)  # 0.18 points
    assert tolerance(0.985, 2007) == pytest.approx(0.00767, abs=1e-5)  # 0.77 points


def test_tolerance_shrinks_with_more_items_and_never_goes_below_one_item() -> None:
    assert tolerance(0.99, 100_000) < tolerance(0.99, 10_000) < tolerance(0.99, 1000)
    assert tolerance(1.0, 500) == pytest.approx(1 / 500)  # a perfect baseline: one item
    assert tolerance(0.9, 0) == 1.0


def test_worse_sets_names_only_the_sets_beyond_their_noise() -> None:
    baseline = {"mnist_test": 0.996, "usps_test": 0.985, "feedback_heldout": 0.9}
    candidate = {"mnist_test": (0.9945, 10_000),  # -0.15 points: within 0.18
                 "usps_test": (0.975, 2007),  # -1.0 point: beyond 0.77
                 "feedback_heldout": (0.8, 20),  # -10 points on 20 drawings: noise
                 "pendigits_train_writers": (0.5, 7494)}  # the baseline lacks it
    problems = worse_sets(candidate, baseline)
    assert len(problems) == 1 and problems[0].startswith("usps_test")
    assert worse_sets({"mnist_test": (0.9999, 10_000)}, baseline) == []

