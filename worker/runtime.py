"""Per-process inference state, built at worker start-up inside the worker process (never
before a fork), from the settings the entry point read."""

from __future__ import annotations

import os
import threading
from dataclasses import dataclass

import redis

from shared.redis_conn import redis_client
from shared.settings import Settings
from worker.batcher import MicroBatcher
from worker.model_holder import ModelHolder
from worker.shadow_models import ShadowModels


@dataclass
class Runtime:
    """What the tasks of this process share: settings, Redis, the model, its batcher and the
    shadow versions an admin asked for."""

    settings: Settings
    redis: redis.Redis
    holder: ModelHolder
    batcher: MicroBatcher
    shadows: ShadowModels


_runtime: Runtime | None = None
_lock = threading.Lock()


def start_runtime(settings: Settings, hostname: str | None = None) -> Runtime:
    """Build the process-wide runtime once (cheap: the model loads on first use)."""
    global _runtime
    with _lock:
        if _runtime is None:
            holder = ModelHolder(settings, hostname)
            _runtime = Runtime(settings=settings, redis=redis_client(settings.redis_url),
                               holder=holder,
                               batcher=MicroBatcher(holder.predict,
                                                    max_batch=2 * settings.batch_chunk_size,
                                                    bulk_predict=holder.predict_bulk,
                                                    bulk_lanes=bulk_lanes(settings)),
                               shadows=ShadowModels(holder.load_version, holder.current))
        return _runtime


def bulk_lanes(settings: Settings) -> int:
    """Side-by-side batch passes: BULK_LANES, else one per core this process may use."""
    return settings.bulk_lanes or len(os.sched_getaffinity(0))


def get_runtime() -> Runtime:
    """The runtime `start_runtime` built; tasks call this."""
    if _runtime is None:
        raise RuntimeError("the worker runtime is not started (run `digitflow worker`)")
    return _runtime
