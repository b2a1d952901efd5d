"""A small cache of shadow model versions, so a shadow costs one load, not one per frame.

At most `capacity` extra versions stay loaded (least recently used goes first); the active
version is never loaded twice: it is served from the ModelHolder's own model. Loads run in the
calling task thread, never on the micro-batcher's model thread, so a first shadowed frame waits
for its load (a second or two) while every other client's frames keep flowing; the
ModelHolder's hot swap loads beside the serving model the same way.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from typing import Protocol

import numpy as np

log = logging.getLogger(__name__)

# Extra versions kept loaded: one shadow in use plus the one an admin just switched away from.
SHADOW_CAPACITY = 2
# A version that failed to load is not tried again for this long: each frame of a session
# shadowing a broken version would otherwise pay a fetch and a failed load.
RETRY_AFTER_S = 10.0


class ScoringModel(Protocol):
    """What a shadow pass needs of a model (shared.classifier.Classifier has it)."""

    version: int | None

    def score(self, digits: np.ndarray) -> np.ndarray: ...


Loader = Callable[[int], ScoringModel]  # version -> loaded, warmed-up model


class ShadowModels:
    """Loaded shadow versions, bounded, loaded once each."""

    def __init__(self, load: Loader, active: Callable[[], ScoringModel],
                 capacity: int = SHADOW_CAPACITY, retry_after_s: float = RETRY_AFTER_S,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self._load = load
        self._active = active
        self._capacity = capacity
        self._retry_after_s = retry_after_s
        self._clock = clock
        self._failed: dict[int, float] = {}  # version -> when its load last failed
        self._models: OrderedDict[int, ScoringModel] = OrderedDict()
        self._lock = threading.Lock()  # one load at a time; also guards the dict
        self.loads = 0

    def get(self, version: int) -> ScoringModel:
        """The model of `version`, loading it on first use (raises if it cannot be loaded)."""
        active = self._active()
        if active.version == version:
            return active
        with self._lock:
            model = self._models.get(version)
            if model is None:
                failed = self._failed.get(version)
                if failed is not None and self._clock() - failed < self._retry_after_s:
                    raise LookupError(f"version {version} failed to load moments ago")
                try:
                    model = self._load(version)
                except Exception:
                    self._failed[version] = self._clock()
                    raise
                self._failed.pop(version, None)
                self.loads += 1
                self._models[version] = model
                while len(self._models) > self._capacity:
                    dropped, _ = self._models.popitem(last=False)
                    log.info("shadow cache full: dropped version %s", dropped)
                log.info("loaded shadow version %s", version)
            self._models.move_to_end(version)
            return model

    def loaded(self) -> list[int]:
        """Versions held, least recently used first."""
        with self._lock:
            return list(self._models)
