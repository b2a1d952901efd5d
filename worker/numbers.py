"""Number-mode items in the worker: segmentation, then the same micro-batched forward pass.

`classify_wire_items` hands a call here when any of its items is in number mode; every crop
of every reading, with the call's single digits, goes to the micro-batcher in one request,
so a whole number costs one forward pass.
"""

from __future__ import annotations

import functools
import threading
from collections.abc import Callable
from typing import Any

import numpy as np

from shared.number import classify_mixed, number_slots
from shared.number_wire import is_number_item, unpack_number
from shared.segment import Slot
from worker.runtime import get_runtime


def prepare_slots(item: Any) -> list[Slot]:
    """Number wire item -> its digit places; raises InvalidInput."""
    ink, spans = unpack_number(item)
    return number_slots(ink, spans)


def classify_with_numbers(items: list[Any], prepare: Callable[[Any], np.ndarray | None],
                          chunk_slots: threading.BoundedSemaphore, with_image: bool = False,
                          live: bool = False) -> list[dict[str, Any]]:
    """Answer digits and numbers alike (`prepare`: a single digit's, from worker.tasks);
    answers name the worker, as single digits do."""
    runtime = get_runtime()
    version = runtime.holder.current().version  # loads the model on first use
    predict = functools.partial(runtime.batcher.classify, live=live)

    def run() -> list[dict[str, Any]]:
        return classify_mixed(items, is_number_item, prepare, prepare_slots, predict, version,
                              with_image)

    if live:
        results = run()
    else:  # batch chunks: at most CHUNKS_PREPARING of them hold the GIL preparing at once
        with chunk_slots:
            results = run()
    for res in results:
        if "digit" in res or "number" in res:
            res["worker"] = runtime.holder.hostname
    return results
