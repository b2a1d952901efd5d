"""Dynamic micro-batching: frames that wait while the model is busy share one forward pass.

A lone frame goes straight to the model (no timer, so no added delay); frames that arrive
while a pass runs are gathered into the next one, as Triton's dynamic batcher does with a
zero queue delay. One thread owns the model, so TensorFlow is never entered concurrently.
"""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass

import numpy as np

log = logging.getLogger(__name__)

# predict(digits uint8 (n,28,28)) -> (probabilities (n,10), model version)
PredictFn = Callable[[np.ndarray], tuple[np.ndarray, int | None]]


@dataclass
class _Request:
    digits: np.ndarray
    future: Future


class MicroBatcher:
    """Feeds a predict function from many threads, merging whatever is waiting."""

    def __init__(self, predict: PredictFn, max_batch: int = 512) -> None:
        self._predict = predict
        self._max_batch = max_batch
        self._queue: queue.Queue[_Request] = queue.Queue()
        self.batches = 0
        self.items = 0
        self._thread = threading.Thread(target=self._loop, name="micro-batcher", daemon=True)
        self._thread.start()

    def submit(self, digits: np.ndarray) -> Future:
        """Queue uint8 digits (n,28,28); the future resolves to (probabilities, version)."""
        fut: Future = Future()
        self._queue.put(_Request(digits, fut))
        return fut

    def classify(self, digits: np.ndarray, timeout: float | None = 60.0) -> tuple:
        """Blocking form of `submit`."""
        return self.submit(digits).result(timeout)

    def _take_waiting(self, first: _Request) -> list[_Request]:
        taken, size = [first], len(first.digits)
        while size < self._max_batch:
            try:
                req = self._queue.get_nowait()
            except queue.Empty:
                break
            taken.append(req)
            size += len(req.digits)
        return taken

    def _loop(self) -> None:
        while True:
            # a request whose caller gave up (cancelled) costs no model time
            batch = [r for r in self._take_waiting(self._queue.get())
                     if r.future.set_running_or_notify_cancel()]
            if not batch:
                continue
            try:
                stacked = np.concatenate([r.digits for r in batch])
                probs, version = self._predict(stacked)
            except Exception as exc:  # never kill the loop: fail these requests only
                log.exception("forward pass failed for %d requests", len(batch))
                for r in batch:
                    r.future.set_exception(exc)
                continue
            self.batches += 1
            self.items += len(stacked)
            start = 0
            for r in batch:
                r.future.set_result((probs[start : start + len(r.digits)], version))
                start += len(r.digits)
