"""The worker's current model, and the hot-swap that replaces it without dropping requests.

Like TF Serving, a new version is fetched, loaded and warmed up *beside* the old one; only
then is the reference swapped (one assignment, atomic under the GIL). A failed load keeps the
old model serving, as Triton does. Workers hear of activations through Redis pub/sub and
double-check the store's ACTIVE pointer every few seconds in case a notice was missed.
(The liveness heartbeat is its own module, `worker.heartbeat`.)
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time

import numpy as np

from shared.classifier import Classifier, load_classifier
from shared.model_store import ModelStore
from shared.redis_conn import redis_client
from shared.redis_keys import ACTIVATION_CHANNEL
from shared.settings import Settings

log = logging.getLogger(__name__)


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
        """Scored rows (probabilities, confidence, rejection: `shared.calibration`) and the
        version that produced them (read once, so they match)."""
        model = self.current()
        return model.score(digits), model.version

    def predict_bulk(self, digits: np.ndarray) -> tuple[np.ndarray, int | None]:
        """`predict` on one thread of the model, for a bulk lane beside others."""
        model = self.current()
        return model.score(digits, single_thread=True), model.version

    def load_version(self, version: int) -> Classifier:
        """Any published version, loaded and warmed up beside the serving one (a shadow,
        worker/shadow_models.py); the serving model is untouched."""
        if version not in self.store.versions():
            raise LookupError(f"no published model version {version}")
        return load_classifier(self.store, version, self.settings.model_cache)

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
                fresh = load_classifier(self.store, wanted, self.settings.model_cache)
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
        """Keep the model current: hear activations at once, and re-check the store now and
        then in case a notice was missed."""
        threading.Thread(target=self._watch_activations, name="swap-watch", daemon=True).start()
        threading.Thread(target=self._poll_versions, name="version-poll", daemon=True).start()

    def _watch_activations(self) -> None:
        while True:
            try:
                pubsub = redis_client(self.settings.redis_url).pubsub(
                    ignore_subscribe_messages=True)
                pubsub.subscribe(ACTIVATION_CHANNEL)
                self.refresh()  # anything activated while we were not listening
                for message in pubsub.listen():
                    log.info("activation notice: version %s", message.get("data"))
                    self.refresh()
            except Exception:
                log.exception("activation listener failed; retrying in 1s")
                time.sleep(1.0)

    def _poll_versions(self) -> None:
        while True:
            time.sleep(self.settings.version_check_interval_s)
            try:
                self.refresh()
            except Exception:
                log.exception("version check failed")
