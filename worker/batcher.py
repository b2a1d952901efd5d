"""Dynamic micro-batching: frames that wait while the model is busy share one forward pass.

A lone frame goes straight to the model (no timer, so no added delay); frames that arrive
while a pass runs are gathered into the next one, as Triton's dynamic batcher does with a
zero queue delay. One live pass runs at a time: on an idle batcher the caller of `classify`
runs it in its own thread, else the loop thread runs the next one.

Two priorities: live requests (someone waits for each answer) and bulk ones (batch chunks).
With bulk lanes (a worker's default), bulk requests never share the live path: `bulk_lanes`
lane threads each run passes of waiting bulk requests side by side, each pass on ONE thread
of ONNX Runtime (`bulk_predict`). On two cores, two one-thread passes at once classified a
batch 1.17x faster than one two-thread pass at a time beside the chunks' preprocessing (8
runs each, alternated): a pass split across both cores waits for its slower half whenever
preprocessing takes a core (`python bench/batch.py`, README "Benchmarks"). A live frame
then waits for no bulk pass at all, only shares the CPU. Without lanes (`bulk_lanes=0`),
bulk requests fill every pass the live path leaves free, back to back, and whenever a live
request waits the next pass holds live requests only, so a live frame waits for at most the
pass already running.

Shadow mode (issue 12): a live request may carry a second model (an admin's shadow version).
The loop iteration that runs its pass also runs ONE extra pass per shadow model over the rows
that asked for it, on the `shadow-pass` thread and at the same time as the active pass
(TensorFlow leaves the GIL while it computes, and the machine has a second core): the admin's
frame then waits for the longer of the two passes, not for both in turn, and requests without
a shadow never wait for it. A shadow model is entered by the shadow-pass thread only.
"""

from __future__ import annotations

import logging
import threading
from collections import deque
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np

from worker.metrics import ERRORS, MODEL_SECONDS, record_pass
from worker.shadow_models import ScoringModel

log = logging.getLogger(__name__)

# Rows per forward pass by default; the worker uses two batch chunks (2 x Settings.
# batch_chunk_size): large enough for the model's batched speed, small enough that, without
# lanes, a live frame arriving mid-pass waits for little.
MAX_BATCH = 256

# predict(digits uint8 (n,28,28)) -> (probabilities (n,10), model version)
PredictFn = Callable[[np.ndarray], tuple[np.ndarray, int | None]]


@dataclass(eq=False)  # compared and hashed by identity
class _Request:
    digits: np.ndarray
    future: Future
    shadow: ScoringModel | None = None
    shadow_rows: int = 0  # how many leading rows the shadow answers (an explain stack: 1)


@dataclass
class ShadowedResult:
    """A shadowed request's answer: the active model's rows, and the shadow's (or why not)."""

    probs: np.ndarray
    version: int | None
    shadow_probs: np.ndarray | None
    shadow_version: int | None
    shadow_error: Exception | None = None


class MicroBatcher:
    """Feeds a predict function from many threads, merging whatever is waiting, live first."""

    def __init__(self, predict: PredictFn, max_batch: int = MAX_BATCH,
                 bulk_predict: PredictFn | None = None, bulk_lanes: int = 0) -> None:
        """`bulk_predict` (safe to call beside `predict` and beside itself) serves bulk
        requests on `bulk_lanes` threads; without it, or with 0 lanes, `predict` serves all."""
        self._predict = predict
        self._max_batch = max_batch
        self._live: deque[_Request] = deque()
        self._bulk: deque[_Request] = deque()
        lock = threading.Lock()
        self._cond = threading.Condition(lock)  # the live path: loop thread or a caller
        self._bulk_ready = threading.Condition(lock)  # the lanes
        self._running = False  # a live-path pass is being run (by the loop thread or a caller)
        self._lanes = bulk_lanes if bulk_predict is not None else 0
        self.batches = 0
        self.items = 0
        self._shadow_pool = ThreadPoolExecutor(1, thread_name_prefix="shadow-pass")
        self._thread = threading.Thread(target=self._loop, name="micro-batcher", daemon=True)
        self._thread.start()
        for i in range(self._lanes):
            threading.Thread(target=self._lane, args=(bulk_predict,), name=f"bulk-lane-{i}",
                             daemon=True).start()

    def submit(self, digits: np.ndarray, live: bool = False) -> Future:
        """Queue uint8 digits (n,28,28); the future resolves to (probabilities, version)."""
        return self._queue(_Request(digits, Future()), live)

    def submit_shadowed(self, digits: np.ndarray, shadow: ScoringModel,
                        shadow_rows: int | None = None, live: bool = True) -> Future:
        """A request also answered by `shadow` (its first `shadow_rows` rows, default all)
        in the same pass; the future resolves to a ShadowedResult."""
        rows = len(digits) if shadow_rows is None else min(shadow_rows, len(digits))
        return self._queue(_Request(digits, Future(), shadow, rows), live)

    def _queue(self, request: _Request, live: bool) -> Future:
        with self._cond:
            if live or not self._lanes:
                (self._live if live else self._bulk).append(request)
                if not self._running:  # else whoever runs hands the rest on when it ends
                    self._cond.notify()
            else:
                self._bulk.append(request)
                self._bulk_ready.notify()
        return request.future

    def _live_path_has_work(self) -> bool:
        """Under the lock: requests the live path serves (bulk ones too when no lanes)."""
        return bool(self._live or (self._bulk and not self._lanes))

    def classify(self, digits: np.ndarray, timeout: float | None = 60.0,
                 live: bool = False) -> tuple:
        """Blocking form of `submit`; when no live-path pass is running, the caller runs it
        (a bulk request with lanes only waits: a lane runs it).

        The calling thread then serves passes (its own request with whatever else waits, live
        first) until its own request is answered, and leaves any rest to the loop thread. On
        an idle worker a frame so wakes neither the loop thread nor, after it, the caller:
        0.10 ms less CPU per frame, of 0.43 ms for a trivial pass between sleeps
        (`python bench/batcher_handoff.py`).
        """
        request = _Request(digits, Future())
        if not live and self._lanes:
            return self._queue(request, live).result(timeout)
        with self._cond:
            (self._live if live else self._bulk).append(request)
            batch = None if self._running else self._take_now()
        while batch is not None:
            self._serve(batch, self._predict)
            with self._cond:
                if request.future.done() or not self._live_path_has_work():
                    self._pass_ended()
                    break
                batch = self._take_now()
        return request.future.result(timeout)

    def _take_now(self) -> list[_Request]:
        """Under the lock, with work waiting: claim the live path, then take all waiting live
        requests, else (no lanes) bulk ones, up to max_batch."""
        self._running = True
        return self._take(self._live if self._live else self._bulk)

    def _take(self, source: deque[_Request]) -> list[_Request]:
        """Under the lock: whole requests from `source` (not empty), up to max_batch rows."""
        taken = [source.popleft()]
        size = len(taken[0].digits)
        while source and size < self._max_batch:
            taken.append(source.popleft())
            size += len(taken[-1].digits)
        return taken

    def _pass_ended(self) -> None:
        """Under the lock: release the live path; the loop thread takes over what is left."""
        self._running = False
        if self._live_path_has_work():
            self._cond.notify()

    def _loop(self) -> None:
        while True:
            with self._cond:
                while self._running or not self._live_path_has_work():
                    self._cond.wait()
                batch = self._take_now()
            self._serve(batch, self._predict)
            with self._cond:
                self._running = False  # this loop goes on with whatever is left

    def _lane(self, predict: PredictFn) -> None:
        """A bulk lane: one pass of waiting bulk requests after another."""
        while True:
            with self._bulk_ready:
                while not self._bulk:
                    self._bulk_ready.wait()
                batch = self._take(self._bulk)
            self._serve(batch, predict)

    def _serve(self, taken: list[_Request], predict: PredictFn) -> None:
        """One forward pass over `taken` (and its shadow passes); never raises."""
        try:
            # a request whose caller gave up (cancelled) costs no model time
            batch = [r for r in taken if r.future.set_running_or_notify_cancel()]
            if not batch:
                return
            shadow_work = self._start_shadow_passes(batch)  # beside the active pass
            try:
                stacked = np.concatenate([r.digits for r in batch])
                with MODEL_SECONDS.time():
                    probs, version = predict(stacked)
            except Exception as exc:  # never kill the loop: fail these requests only
                log.exception("forward pass failed for %d requests", len(batch))
                ERRORS.labels("forward_pass").inc()
                for r in batch:
                    r.future.set_exception(exc)
                return
            with self._cond:  # lanes and the live path count side by side
                self.batches += 1
                self.items += len(stacked)
            record_pass(len(stacked))
            start, shadowed = 0, []
            for r in batch:
                rows = probs[start : start + len(r.digits)]
                start += len(r.digits)
                if r.shadow is None:
                    r.future.set_result((rows, version))
                else:  # answered after the shadow pass; nobody else waits for it
                    shadowed.append((r, rows))
            if shadowed:
                self._finish_shadow_passes(dict(shadowed), version, shadow_work)
        except Exception as exc:  # a bug here must not leave the model claimed for ever
            log.exception("serving a pass failed")
            for r in taken:
                if not r.future.done():
                    r.future.set_exception(exc)

    def _start_shadow_passes(self, batch: list[_Request]
                             ) -> list[tuple[list[_Request], Future]]:
        """One extra pass per shadow model over the rows that asked for it, started now on
        the shadow-pass thread: (its requests, the future of its scored rows)."""
        groups: dict[int, list[_Request]] = {}
        for r in batch:
            if r.shadow is not None:
                groups.setdefault(id(r.shadow), []).append(r)
        return [(group, self._shadow_pool.submit(_shadow_pass, group))
                for group in groups.values()]

    def _finish_shadow_passes(self, active_rows: dict[_Request, np.ndarray],
                              version: int | None,
                              work: list[tuple[list[_Request], Future]]) -> None:
        """Answer each shadowed request with the active rows and its shadow's."""
        for group, fut in work:
            model = group[0].shadow
            assert model is not None
            try:
                shadow_probs, error = fut.result(), None
            except Exception as exc:  # the shadow failing costs its rows, not the answers
                log.exception("shadow pass of version %s failed", model.version)
                ERRORS.labels("forward_pass").inc()
                shadow_probs, error = None, exc
            start = 0
            for r in group:
                mine = None
                if shadow_probs is not None:
                    mine = shadow_probs[start : start + r.shadow_rows]
                start += r.shadow_rows
                r.future.set_result(ShadowedResult(active_rows[r], version, mine,
                                                   model.version, error))


def _shadow_pass(group: list[_Request]) -> np.ndarray:
    """The shadow model's scored rows for a group of requests (on the shadow-pass thread)."""
    model = group[0].shadow
    assert model is not None
    stacked = np.concatenate([r.digits[: r.shadow_rows] for r in group])
    with MODEL_SECONDS.time():
        return model.score(stacked)
