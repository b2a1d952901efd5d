"""Unit tests for worker.batcher.MicroBatcher with a plain numpy predict function."""

from __future__ import annotations

import threading
import time
from concurrent.futures import Future

import numpy as np
import pytest

from worker.batcher import MicroBatcher

WAIT = 10.0  # a generous safety timeout; no test relies on it for timing


class FakeModel:
    """A predict function that records each call and can hold the first call until released.

    Row i of the output is the one-hot of `digits[i, 0, 0] % 10` with the tag in column 0 of
    a second array, so every caller can check it got back exactly its own rows, in order.
    """

    def __init__(self, block_first: bool = False, fail_when: int | None = None) -> None:
        self.sizes: list[int] = []
        self.entered = threading.Event()
        self.release = threading.Event()
        if not block_first:
            self.release.set()
        self.fail_when = fail_when
        self.version = 3

    def __call__(self, digits: np.ndarray) -> tuple[np.ndarray, int]:
        assert digits.dtype == np.uint8 and digits.shape[1:] == (28, 28)
        self.sizes.append(len(digits))
        self.entered.set()
        assert self.release.wait(WAIT), "test never released the model"
        tags = digits[:, 0, 0].astype(np.float32)
        if self.fail_when is not None and (tags == self.fail_when).any():
            raise RuntimeError(f"model failed on tag {self.fail_when}")
        return np.repeat(tags[:, None], 10, axis=1), self.version


def frames(*tags: int) -> np.ndarray:
    """Digits (n, 28, 28) whose top-left pixel carries a tag identifying the row."""
    out = np.zeros((len(tags), 28, 28), np.uint8)
    out[:, 0, 0] = tags
    return out


def tags_of(result: tuple[np.ndarray, int]) -> list[int]:
    """The tags of the rows a caller got back."""
    probs, _ = result
    return probs[:, 0].astype(int).tolist()


def submit_all(batcher: MicroBatcher, requests: list[np.ndarray]) -> list[Future]:
    """Submit every request from its own thread; return when all are queued."""
    futures: list[Future | None] = [None] * len(requests)

    def one(i: int) -> None:
        futures[i] = batcher.submit(requests[i])

    threads = [threading.Thread(target=one, args=(i,)) for i in range(len(requests))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(WAIT)
    assert all(f is not None for f in futures)
    return futures  # type: ignore[return-value]


def test_each_caller_gets_its_own_rows_in_order() -> None:
    model = FakeModel()
    batcher = MicroBatcher(model)
    requests = [frames(*range(i * 5, i * 5 + 1 + i % 4)) for i in range(40)]
    results: dict[int, tuple] = {}

    def caller(i: int) -> None:
        results[i] = batcher.classify(requests[i], timeout=WAIT)

    threads = [threading.Thread(target=caller, args=(i,)) for i in range(len(requests))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(WAIT)
    assert sorted(results) == list(range(40))
    for i, req in enumerate(requests):
        assert tags_of(results[i]) == req[:, 0, 0].tolist()
        assert results[i][1] == 3  # the model version comes back with the rows
        assert results[i][0].shape == (len(req), 10)
    assert sum(model.sizes) == sum(len(r) for r in requests)
    assert batcher.items == sum(len(r) for r in requests)
    assert batcher.batches == len(model.sizes)


def test_requests_waiting_on_a_busy_model_share_one_call() -> None:
    model = FakeModel(block_first=True)
    batcher = MicroBatcher(model)
    first = batcher.submit(frames(200))
    assert model.entered.wait(WAIT)  # the model is now busy with the first frame
    waiting = submit_all(batcher, [frames(i) for i in range(30)])
    assert not first.done() and not any(f.done() for f in waiting)
    model.release.set()
    assert tags_of(first.result(WAIT)) == [200]
    for i, fut in enumerate(waiting):
        assert tags_of(fut.result(WAIT)) == [i]
    assert model.sizes == [1, 30]  # the 30 waiting frames went through in ONE merged call
    assert batcher.batches == 2 and batcher.items == 31


def test_merged_calls_respect_max_batch() -> None:
    model = FakeModel(block_first=True)
    batcher = MicroBatcher(model, max_batch=4)
    first = batcher.submit(frames(99))
    assert model.entered.wait(WAIT)
    waiting = [batcher.submit(frames(i)) for i in range(10)]
    model.release.set()
    assert [tags_of(f.result(WAIT)) for f in waiting] == [[i] for i in range(10)]
    assert first.result(WAIT)
    assert model.sizes == [1, 4, 4, 2]


def test_a_multi_row_request_is_never_split() -> None:
    model = FakeModel(block_first=True)
    batcher = MicroBatcher(model, max_batch=4)
    batcher.submit(frames(99))
    assert model.entered.wait(WAIT)
    small = batcher.submit(frames(1, 2, 3))
    big = batcher.submit(frames(*range(10, 16)))
    model.release.set()
    assert tags_of(small.result(WAIT)) == [1, 2, 3]
    assert tags_of(big.result(WAIT)) == list(range(10, 16))
    assert model.sizes == [1, 9]  # 3 < 4, so the 6-row request still joins that call


def test_a_lone_request_is_served_at_once_in_a_call_of_its_own() -> None:
    model = FakeModel()
    batcher = MicroBatcher(model)
    result = batcher.classify(frames(7), timeout=WAIT)
    assert tags_of(result) == [7]
    assert model.sizes == [1]  # served by exactly one call of batch size 1: nothing was waited for
    for i in range(5):  # one after another, each is its own call: no timer merges them
        assert tags_of(batcher.classify(frames(i), timeout=WAIT)) == [i]
    assert model.sizes == [1] * 6


def test_an_error_fails_only_the_requests_of_that_call() -> None:
    model = FakeModel(block_first=True, fail_when=13)
    batcher = MicroBatcher(model)
    first = batcher.submit(frames(1))
    assert model.entered.wait(WAIT)
    doomed = [batcher.submit(frames(i)) for i in (12, 13, 14)]  # merged with the bad frame
    model.release.set()
    assert tags_of(first.result(WAIT)) == [1]
    for fut in doomed:
        with pytest.raises(RuntimeError, match="model failed on tag 13"):
            fut.result(WAIT)
    assert model.sizes == [1, 3]
    assert batcher.batches == 1 and batcher.items == 1  # failed calls are not counted

    # the batcher keeps working afterwards
    assert tags_of(batcher.classify(frames(5), timeout=WAIT)) == [5]
    assert tags_of(batcher.classify(frames(6, 7), timeout=WAIT)) == [6, 7]
    assert model.sizes == [1, 3, 1, 2]
    assert batcher.batches == 3


def test_a_failing_lone_request_does_not_affect_the_next_one() -> None:
    model = FakeModel(fail_when=13)
    batcher = MicroBatcher(model)
    with pytest.raises(RuntimeError):
        batcher.classify(frames(13), timeout=WAIT)
    assert tags_of(batcher.classify(frames(4), timeout=2)) == [4]


def test_empty_request_gets_an_empty_result() -> None:
    model = FakeModel()
    batcher = MicroBatcher(model)
    probs, version = batcher.classify(np.zeros((0, 28, 28), np.uint8), timeout=WAIT)
    assert probs.shape == (0, 10) and version == 3


def test_a_cancelled_request_does_not_kill_the_batcher() -> None:
    """BUG: set_result on a cancelled Future raises InvalidStateError in the loop thread."""
    model = FakeModel(block_first=True)
    batcher = MicroBatcher(model)
    first = batcher.submit(frames(1))
    assert model.entered.wait(WAIT)
    given_up, kept = batcher.submit(frames(2)), batcher.submit(frames(3))
    assert given_up.cancel()  # a caller that stopped waiting, e.g. a superseded live frame
    model.release.set()
    assert tags_of(first.result(WAIT)) == [1]
    assert tags_of(kept.result(2)) == [3]
    assert tags_of(batcher.classify(frames(4), timeout=2)) == [4]


def test_live_requests_go_before_bulk_ones_that_waited_longer() -> None:
    model = FakeModel(block_first=True)
    batcher = MicroBatcher(model, max_batch=4)
    batcher.submit(frames(99))  # the model is busy with this pass
    assert model.entered.wait(WAIT)
    bulk = [batcher.submit(frames(*range(10 * i, 10 * i + 4))) for i in range(1, 4)]
    live = [batcher.submit(frames(i), live=True) for i in (1, 2)]
    model.release.set()
    assert [tags_of(f.result(WAIT)) for f in live] == [[1], [2]]
    assert all(f.result(WAIT) for f in bulk)
    # the pass after the busy one holds the two live frames only; bulk follows, 4 per pass
    assert model.sizes == [1, 2, 4, 4, 4]


def test_bulk_requests_fill_passes_back_to_back_without_live_ones() -> None:
    model = FakeModel(block_first=True)
    batcher = MicroBatcher(model, max_batch=8)
    batcher.submit(frames(1))
    assert model.entered.wait(WAIT)
    bulk = [batcher.submit(frames(*range(4))) for _ in range(5)]
    model.release.set()
    assert all(len(tags_of(f.result(WAIT))) == 4 for f in bulk)
    assert model.sizes == [1, 8, 8, 4]


class ThreadRecordingModel(FakeModel):
    """Also records which thread ran each call, and how many calls ever overlapped."""

    def __init__(self, **kwargs: object) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self.threads: list[str] = []
        self.inside = 0
        self.most_inside = 0
        self._count = threading.Lock()

    def __call__(self, digits: np.ndarray) -> tuple[np.ndarray, int]:
        with self._count:
            self.inside += 1
            self.most_inside = max(self.most_inside, self.inside)
        self.threads.append(threading.current_thread().name)
        try:
            return super().__call__(digits)
        finally:
            with self._count:
                self.inside -= 1


def test_an_idle_batcher_runs_the_pass_in_the_calling_thread() -> None:
    model = ThreadRecordingModel()
    batcher = MicroBatcher(model)
    assert tags_of(batcher.classify(frames(3), live=True, timeout=WAIT)) == [3]
    assert model.threads == [threading.current_thread().name]  # no hand-off to the loop
    batcher.submit(frames(4)).result(WAIT)  # a bare submit is served by the loop thread
    assert model.threads[-1] == "micro-batcher"


def test_a_caller_finding_the_model_busy_is_served_by_the_next_pass() -> None:
    model = ThreadRecordingModel(block_first=True)
    batcher = MicroBatcher(model)
    first = batcher.submit(frames(1))  # the loop thread runs it, held in the model
    assert model.entered.wait(WAIT)
    got: list = []
    caller = threading.Thread(target=lambda: got.append(batcher.classify(frames(2), live=True,
                                                                         timeout=WAIT)))
    caller.start()
    model.release.set()
    caller.join(WAIT)
    assert tags_of(first.result(WAIT)) == [1] and tags_of(got[0]) == [2]
    assert model.sizes == [1, 1] and model.threads == ["micro-batcher", "micro-batcher"]


def test_callers_from_many_threads_never_enter_the_model_at_once() -> None:
    model = ThreadRecordingModel()
    batcher = MicroBatcher(model, max_batch=4)
    results: dict[int, list[int]] = {}

    def draw(tag: int) -> None:
        for k in range(20):
            live = (tag + k) % 3 != 0  # live and bulk requests mixed
            results[tag * 100 + k] = tags_of(batcher.classify(frames(tag), live=live,
                                                              timeout=WAIT))

    threads = [threading.Thread(target=draw, args=(t,)) for t in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(WAIT)
    assert len(results) == 160
    assert all(rows == [key // 100] for key, rows in results.items())  # each its own rows
    assert model.most_inside == 1  # one pass at a time, whoever ran it
    assert batcher.items == 160


def test_bulk_lanes_run_bulk_passes_side_by_side_and_never_more() -> None:
    live_model, bulk_model = ThreadRecordingModel(), ThreadRecordingModel(block_first=True)
    batcher = MicroBatcher(live_model, max_batch=4, bulk_predict=bulk_model, bulk_lanes=2)
    bulk = [batcher.submit(frames(*range(10 * i, 10 * i + 4))) for i in range(5)]
    assert bulk_model.entered.wait(WAIT)
    for _ in range(1000):  # the second lane enters while the first is held
        if bulk_model.inside == 2:
            break
        time.sleep(0.01)
    bulk_model.release.set()
    assert [tags_of(f.result(WAIT)) for f in bulk] == [list(range(10 * i, 10 * i + 4))
                                                      for i in range(5)]
    assert bulk_model.most_inside == 2  # two lanes, side by side, and never a third
    assert bulk_model.sizes == [4] * 5  # each pass at most max_batch rows
    assert set(bulk_model.threads) <= {"bulk-lane-0", "bulk-lane-1"}
    assert live_model.sizes == []  # bulk rows never go through the live path
    assert batcher.items == 20 and batcher.batches == 5


def test_a_live_request_waits_for_no_bulk_lane() -> None:
    live_model, bulk_model = ThreadRecordingModel(), ThreadRecordingModel(block_first=True)
    batcher = MicroBatcher(live_model, max_batch=4, bulk_predict=bulk_model, bulk_lanes=2)
    held = [batcher.submit(frames(*range(4))) for _ in range(3)]  # 2 lanes held, 1 waits
    assert bulk_model.entered.wait(WAIT)
    assert tags_of(batcher.classify(frames(7), live=True, timeout=WAIT)) == [7]
    assert not any(f.done() for f in held)  # answered while every lane was still busy
    bulk_model.release.set()
    assert all(len(tags_of(f.result(WAIT))) == 4 for f in held)
    # the waiting bulk request went to a lane, never to the live path that had just run
    assert live_model.sizes == [1] and bulk_model.sizes == [4, 4, 4]


def test_a_failing_lane_pass_fails_only_its_requests_and_the_lane_goes_on() -> None:
    live_model, bulk_model = FakeModel(), FakeModel(fail_when=13)
    batcher = MicroBatcher(live_model, max_batch=2, bulk_predict=bulk_model, bulk_lanes=1)
    bad = batcher.submit(frames(12, 13))
    with pytest.raises(RuntimeError, match="tag 13"):
        bad.result(WAIT)
    assert tags_of(batcher.classify(frames(1, 2), timeout=WAIT)) == [1, 2]  # bulk, by a lane
    assert bulk_model.sizes == [2, 2] and live_model.sizes == []
