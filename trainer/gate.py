"""The promotion gate: a new version goes live only if no set got worse beyond its noise.

Both versions are scored on the same items, so the question for each set is whether the new
accuracy is lower than the active one's by more than chance. For a set of n items on which
the active version is right with probability p, each version's accuracy has a binomial
standard error sqrt(p(1-p)/n), and the difference of two such figures has at most
sqrt(2p(1-p)/n) (scoring the same items makes it smaller still, so this is conservative).
The gate allows Z of those, and never less than one item:

    tolerance(p, n) = max(Z * sqrt(2 * p * (1 - p) / n), 1 / n),    Z = 2

Z = 2 lets a version that is truly as good through about 98% of the time on each set, while a
real loss of a few tenths of a point on MNIST (n = 10,000, p = 0.996: tolerance 0.18 points)
or about a point on USPS (n = 2,007, p = 0.985: tolerance 0.77 points) is caught. Held-out
feedback joins once it has `trainer.data.feedback.MIN_GATED` drawings; with so few its
tolerance is wide, which is honest: a handful of drawings cannot prove a loss.
"""

from __future__ import annotations

import math
from collections.abc import Mapping

Z = 2.0


def tolerance(p: float, n: int, z: float = Z) -> float:
    """How far (as a fraction) accuracy may fall on n items before it counts as worse."""
    if n <= 0:
        return 1.0
    p = min(max(p, 0.0), 1.0)
    return max(z * math.sqrt(2.0 * p * (1.0 - p) / n), 1.0 / n)


def worse_sets(candidate: Mapping[str, tuple[float, int]], baseline: Mapping[str, float],
               z: float = Z) -> list[str]:
    """Describe every set where candidate (accuracy, n) falls below the baseline accuracy by
    more than the tolerance; sets the baseline lacks are not compared."""
    problems = []
    for name, (accuracy, n) in candidate.items():
        if name not in baseline:
            continue
        base = float(baseline[name])
        allowed = tolerance(base, n, z)
        if accuracy < base - allowed:
            problems.append(f"{name}: {accuracy:.2%} vs active {base:.2%} "
                            f"(allowed {allowed * 100:.2f} points below, n={n})")
    return problems
