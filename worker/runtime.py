"""Per-process inference state, created lazily inside the worker process (never before a fork)."""

from __future__ import annotations

import threading
from dataclasses import dataclass

from shared.settings import get_settings
from worker.batcher import MicroBatcher
from worker.model_holder import ModelHolder


@dataclass
class Runtime:
    holder: ModelHolder
    batcher: MicroBatcher


_runtime: Runtime | None = None
_lock = threading.Lock()


def get_runtime(hostname: str | None = None) -> Runtime:
    """The process-wide model holder and micro-batcher, built on first use."""
    global _runtime
    with _lock:
        if _runtime is None:
            holder = ModelHolder(get_settings(), hostname)
            _runtime = Runtime(holder=holder, batcher=MicroBatcher(holder.predict))
        return _runtime
