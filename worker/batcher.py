"""Dynamic micro-batching: frames that wait while the model is busy share one forward pass.

A lone frame goes straight to the model (no timer, so no added delay); frames that arrive
while a pass runs are gathered into the next one, as Triton's dynamic batcher does with a
zero queue delay. One thread owns the model, so TensorFlow is never entered concurrently.

Two priorities: live requests (someone waits for each answer) and bulk ones (batch chunks).
Whenever a live request waits, the next pass holds live requests only, so a live frame waits
for at most the pass already running; bulk requests fill every other pass, back to back, so a
lone batch keeps the model busy.
"""

from __future__ import annotations

import logging
import threading
from collections import deque
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass

import numpy as np

from worker.metrics import ERRORS, MODEL_SECONDS, record_pass

log = logging.getLogger(__name__)

# Rows per forward pass by default; the worker uses two batch chunks (2 x Settings.
# batch_chunk_size): large enough for the model's batched speed, small enough that a live
# frame arriving mid-pass waits for little.
MAX_BATCH = 256

# predict(digits uint8 (n,28,28)) -> (probabilities (n,10), model version)
PredictFn = Callable[[np.ndarray], tuple[np.ndarray, int | None]]


@dataclass
class _Request:
    digits: np.ndarray
    future: Future


class MicroBatcher:
    """Feeds a predict function from many threads, merging whatever is waiting, live first."""

    def __init__(self, predict: PredictFn, max_batch: int = MAX_BATCH) -> None:
        self._predict = predict
        self._max_batch = max_batch
        self._live: deque[_Request] = deque()
        self._bulk: deque[_Request] = deque()
        self._cond = threading.Condition()
        self.batches = 0
        self.items = 0
        self._thread = threading.Thread(target=self._loop, name="micro-batcher", daemon=True)
        self._thread.start()

    def submit(self, digits: np.ndarray, live: bool = False) -> Future:
        """Queue uint8 digits (n,28,28); the future resolves to (probabilities, version)."""
        fut: Future = Future()
        with self._cond:
            (self._live if live else self._bulk).append(_Request(digits, fut))
            self._cond.notify()
        return fut

    def classify(self, digits: np.ndarray, timeout: float | None = 60.0,
                 live: bool = False) -> tuple:
        """Blocking form of `submit`."""
        return self.submit(digits, live).result(timeout)

    def _take_waiting(self) -> list[_Request]:
        """Block for work; then all waiting live requests, else bulk ones, up to max_batch."""
        with self._cond:
            while not self._live and not self._bulk:
                self._cond.wait()
            source = self._live if self._live else self._bulk
            taken = [source.popleft()]
            size = len(taken[0].digits)
            while source and size < self._max_batch:
                taken.append(source.popleft())
                size += len(taken[-1].digits)
            return taken

    def _loop(self) -> None:
        while True:
            # a request whose caller gave up (cancelled) costs no model time
            batch = [r for r in self._take_waiting() if r.future.set_running_or_notify_cancel()]
            if not batch:
                continue
            try:
                stacked = np.concatenate([r.digits for r in batch])
                with MODEL_SECONDS.time():
                    probs, version = self._predict(stacked)
            except Exception as exc:  # never kill the loop: fail these requests only
                log.exception("forward pass failed for %d requests", len(batch))
                ERRORS.labels("forward_pass").inc()
                for r in batch:
                    r.future.set_exception(exc)
                continue
            self.batches += 1
            self.items += len(stacked)
            record_pass(len(stacked))
            start = 0
            for r in batch:
                r.future.set_result((probs[start : start + len(r.digits)], version))
                start += len(r.digits)
