"""The micro-batcher's shadow pass: one extra pass per shadow model in the same loop iteration,
the others answered first, and a failing shadow costs only the shadow part."""

from __future__ import annotations

import threading

import numpy as np

from tests.worker.test_batcher import WAIT, FakeModel, frames
from worker.batcher import MicroBatcher, ShadowedResult


class FakeShadow:
    """A second model: row i's probabilities are its tag + 100, so its rows are told apart
    from the active model's; records each pass's size."""

    def __init__(self, version: int, fail: bool = False) -> None:
        self.version = version
        self.fail = fail
        self.sizes: list[int] = []

    def score(self, digits: np.ndarray) -> np.ndarray:
        self.sizes.append(len(digits))
        if self.fail:
            raise RuntimeError("shadow broke")
        return np.repeat(digits[:, 0, 0].astype(np.float32)[:, None] + 100, 12, axis=1)


def test_a_shadowed_request_gets_both_models_rows() -> None:
    model, shadow = FakeModel(), FakeShadow(7)
    batcher = MicroBatcher(model)
    res = batcher.submit_shadowed(frames(4, 5), shadow).result(WAIT)
    assert isinstance(res, ShadowedResult)
    assert res.probs[:, 0].tolist() == [4, 5] and res.version == 3
    assert res.shadow_probs is not None and res.shadow_probs[:, 0].tolist() == [104, 105]
    assert res.shadow_version == 7 and res.shadow_error is None
    assert model.sizes == [2] and shadow.sizes == [2]


def test_shadow_rows_limit_the_extra_pass_to_the_leading_rows() -> None:
    shadow = FakeShadow(2)
    batcher = MicroBatcher(FakeModel())
    res = batcher.submit_shadowed(frames(1, 2, 3, 4), shadow, shadow_rows=1).result(WAIT)
    assert len(res.probs) == 4  # the active pass sees the whole (occlusion) stack
    assert res.shadow_probs is not None and res.shadow_probs[:, 0].tolist() == [101]
    assert shadow.sizes == [1]


def test_waiting_requests_share_one_active_and_one_shadow_pass() -> None:
    model, shadow, other = FakeModel(block_first=True), FakeShadow(2), FakeShadow(5)
    batcher = MicroBatcher(model)
    first = batcher.submit(frames(200))
    assert model.entered.wait(WAIT)  # busy: the next ones wait together
    plain = batcher.submit(frames(1), live=True)
    a = batcher.submit_shadowed(frames(2), shadow)
    b = batcher.submit_shadowed(frames(3), shadow)
    c = batcher.submit_shadowed(frames(4), other)
    model.release.set()
    first.result(WAIT)
    assert plain.result(WAIT)[0][:, 0].tolist() == [1]
    assert [f.result(WAIT).shadow_probs[0, 0] for f in (a, b, c)] == [102, 103, 104]
    assert model.sizes == [1, 4]  # one active pass for all four waiting requests
    assert shadow.sizes == [2] and other.sizes == [1]  # one extra pass per shadow model


def test_unshadowed_requests_never_wait_for_the_shadow_pass() -> None:
    release = threading.Event()
    model = FakeModel(block_first=True)
    batcher = MicroBatcher(model)
    first = batcher.submit(frames(9))
    assert model.entered.wait(WAIT)

    class Slow(FakeShadow):
        def score(self, digits: np.ndarray) -> np.ndarray:
            assert release.wait(WAIT)
            return super().score(digits)

    plain = batcher.submit(frames(1), live=True)
    shadowed = batcher.submit_shadowed(frames(2), Slow(4))
    model.release.set()
    first.result(WAIT)
    assert plain.result(WAIT)[0][:, 0].tolist() == [1]  # while the shadow pass still runs
    assert not shadowed.done()
    release.set()
    assert shadowed.result(WAIT).shadow_probs[0, 0] == 102


def test_the_shadow_pass_runs_beside_the_active_pass() -> None:
    """The active pass cannot finish until the shadow pass has started: one after the other
    would never get there."""
    shadow_started = threading.Event()

    class Started(FakeShadow):
        def score(self, digits: np.ndarray) -> np.ndarray:
            shadow_started.set()
            return super().score(digits)

    class WaitsForShadow(FakeModel):
        def __call__(self, digits: np.ndarray) -> tuple[np.ndarray, int | None]:
            assert shadow_started.wait(WAIT), "the shadow pass did not start beside this one"
            return super().__call__(digits)

    batcher = MicroBatcher(WaitsForShadow())
    res = batcher.submit_shadowed(frames(5), Started(8)).result(WAIT)
    assert res.probs[:, 0].tolist() == [5] and res.shadow_probs[:, 0].tolist() == [105]


def test_a_failing_shadow_costs_only_the_shadow_part() -> None:
    model = FakeModel()
    batcher = MicroBatcher(model)
    res = batcher.submit_shadowed(frames(6), FakeShadow(9, fail=True)).result(WAIT)
    assert res.probs[:, 0].tolist() == [6] and res.version == 3
    assert res.shadow_probs is None and isinstance(res.shadow_error, RuntimeError)
    assert batcher.classify(frames(8), timeout=WAIT)[0][:, 0].tolist() == [8]  # loop alive


def test_a_bulk_shadowed_request_waits_behind_live_ones() -> None:
    model = FakeModel(block_first=True)
    batcher = MicroBatcher(model)
    first = batcher.submit(frames(9))
    assert model.entered.wait(WAIT)
    bulk = batcher.submit_shadowed(frames(1, 2), FakeShadow(2), live=False)
    live = batcher.submit(frames(3), live=True)
    model.release.set()
    first.result(WAIT)
    live.result(WAIT)
    bulk.result(WAIT)
    assert model.sizes == [1, 1, 2]  # the live frame's pass, then the review's
