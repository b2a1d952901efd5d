"""The worker's current model, and the hot-swap that replaces it without dropping requests.

Like TF Serving, a new version is fetched, loaded and warmed up *beside* the old one; only
then is the reference swapped (one assignment, atomic under the GIL). A failed load keeps the
old model serving, as Triton does. Workers hear of activations through Redis pub/sub and
double-check the store's ACTIVE pointer every few seconds in case a notice was missed.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time

import numpy as np
import redis

from shared.classifier import Classifier
from shared.model_store import ModelStore
from shared.redis_keys import ACTIVATION_CHANNEL
from shared.settings import Settings

log = logging.getLogger(__name__)
HEARTBEAT_S = 2.0  # how often the version poll loop wakes up


class ModelHolder:
    """Owns the active Classifier of this process and keeps it current."""

    def __init__(self, settings: Settings, hostname: str | None = None) -> None:
        self.settings = settings
        self.hostname = hostname or f"{socket.gethostname()}-{os.getpid()}"
        self.store = ModelStore(settings.model_store)
        self._current: Classifier | None = None
        self._lock = threading.Lock()  # serialises loads, never held while serving

    @property
    def version(self) -> int | None:
        return self._current.version if self._current else None

    def current(self) -> Classifier:
        """The serving model, loading it on first use."""
        if self._current is None:
            self.refresh()
        assert self._current is not None
        return self._current

    def predict(self, digits: np.ndarray) -> tuple[np.ndarray, int | None]:
        """Probabilities and the version that produced them (read once, so they match)."""
        model = self.current()
        return model.predict(digits), model.version

    def refresh(self) -> bool:
        """Load the store's active version if it differs from ours; True if we swapped."""
        with self._lock:
            wanted = self.store.active()
            if wanted is None:
                wanted = self.store.ensure_seeded()
            if self._current is not None and self._current.version == wanted:
                return False
            started = time.perf_counter()
            try:
                local = self.store.fetch(wanted, self.settings.model_cache)
                fresh = Classifier(local, version=wanted)
            except Exception:
                if self._current is None:
                    raise
                log.exception("loading version %s failed; still serving %s", wanted, self.version)
                return False
            old = self.version
            self._current = fresh  # the swap
            log.info("serving model version %s (was %s); swap took %.2fs",
                     wanted, old, time.perf_counter() - started)
            return True

    # ------------------------------------------------------------------ background threads
    def start_background(self) -> None:
        """Load now, then keep the model current."""
        threading.Thread(target=self._watch_activations, name="swap-watch", daemon=True).start()
        threading.Thread(target=self._poll_and_heartbeat, name="version-poll", daemon=True).start()

    def _watch_activations(self) -> None:
        while True:
            try:
                client = redis.Redis.from_url(self.settings.redis_url)
                pubsub = client.pubsub(ignore_subscribe_messages=True)
                pubsub.subscribe(ACTIVATION_CHANNEL)
                self.refresh()  # anything activated while we were not listening
                for message in pubsub.listen():
                    log.info("activation notice: version %s", message.get("data"))
                    self.refresh()
            except Exception:
                log.exception("activation listener failed; retrying in 1s")
                time.sleep(1.0)

    def _poll_and_heartbeat(self) -> None:
        last_check = 0.0
        while True:
            try:
                if time.monotonic() - last_check > self.settings.version_check_interval_s:
                    last_check = time.monotonic()
                    self.refresh()
                # readiness (the /healthz record) is written by worker/readiness.py, only
                # after this worker's consumer answered a ping through the broker
            except Exception:
                log.exception("version check failed")
            time.sleep(HEARTBEAT_S)
