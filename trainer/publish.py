"""Publish a run through the promotion gate, and announce nothing itself (callers do).

The active version is scored afresh on exactly the sets the new one was scored on, so the gate
compares like with like (the tolerance per set is in `trainer.gate`).
"""

from __future__ import annotations

import logging
import os
from typing import Any

from shared.classifier import load_classifier
from shared.model_store import ModelStore, StoreError
from trainer.data.feedback import MIN_GATED
from trainer.evaluate import score_all
from trainer.gate import tolerance, worse_sets
from trainer.result import TrainResult

log = logging.getLogger(__name__)

POLICIES = ("gate", "always", "never")


def gated_sets(result: TrainResult) -> dict[str, tuple[float, int]]:
    """(accuracy, n) of every set the gate looks at; small held-out feedback stays out."""
    return {name: (s.accuracy, s.n) for name, s in result.scores.items()
            if not (name == "feedback_heldout" and s.n < MIN_GATED)}


def active_figures(store: ModelStore, result: TrainResult,
                   cache_dir: str | os.PathLike) -> tuple[int | None, dict[str, float]]:
    """The active version and its accuracy on each of the result's sets (scored now)."""
    current = store.active()
    if current is None:
        return None, {}
    try:
        classifier = load_classifier(store, current, cache_dir)
    except (StoreError, OSError, ValueError) as exc:
        log.warning("cannot load active version %s (%s): gating on its recorded figures",
                    current, exc)
        return current, recorded_figures(store.meta(current))
    scores = score_all(classifier, {k: result.eval_sets[k] for k in gated_sets(result)})
    return current, {name: s.accuracy for name, s in scores.items()}


def recorded_figures(meta: dict[str, Any]) -> dict[str, float]:
    """A version's figures from its meta.json (older versions only have `test_accuracy`)."""
    sets = {k: float(v["accuracy"]) for k, v in meta.get("sets", {}).items()}
    if not sets and meta.get("test_accuracy") is not None:
        sets["mnist_test"] = float(meta["test_accuracy"])
    return sets


def gate_decision(store: ModelStore, result: TrainResult, policy: str,
                  cache_dir: str | os.PathLike) -> tuple[str, str | None, dict[str, Any]]:
    """(status, reason, gate record) before publishing: active, ready or rejected."""
    if policy not in POLICIES:
        raise ValueError(f"policy must be one of {', '.join(POLICIES)}, not {policy!r}")
    if policy == "never":
        return "ready", None, {}
    if policy == "always":
        return "active", None, {}
    current, baseline = active_figures(store, result, cache_dir)
    record = {"against_version": current, "sets": {
        name: {"new": round(acc, 6), "active": round(baseline[name], 6),
               "tolerance": round(tolerance(baseline[name], n), 6)}
        for name, (acc, n) in gated_sets(result).items() if name in baseline}}
    problems = worse_sets(gated_sets(result), baseline)
    if problems:
        return "rejected", f"worse than active version {current} on " + "; ".join(problems), \
            record
    return "active", None, record


def publish_with_gate(store: ModelStore, result: TrainResult, policy: str,
                      cache_dir: str | os.PathLike) -> tuple[int, str, str | None]:
    """Publish `result` and activate it if the policy allows; returns (version, status, reason)."""
    status, reason, record = gate_decision(store, result, policy, cache_dir)
    meta = {**result.meta, "status": status, "gate": record}
    if reason:
        meta["reason"] = reason
    version = store.publish(result.model_file, meta)
    if status == "active":
        store.activate(version)
    elif status == "rejected":
        log.warning("model version %d rejected: %s", version, reason)
    return version, status, reason
