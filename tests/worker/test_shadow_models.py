"""The worker's bounded cache of shadow versions (fake loader: the cache is under test)."""

from __future__ import annotations

import threading
from dataclasses import dataclass

import numpy as np
import pytest

from worker.shadow_models import ShadowModels


@dataclass
class Model:
    version: int | None

    def score(self, digits: np.ndarray) -> np.ndarray:
        return np.zeros((len(digits), 12))


class Loader:
    def __init__(self, missing: tuple[int, ...] = ()) -> None:
        self.calls: list[int] = []
        self.missing = missing

    def __call__(self, version: int) -> Model:
        self.calls.append(version)
        if version in self.missing:
            raise LookupError(f"no published model version {version}")
        return Model(version)


ACTIVE = Model(1)


def test_a_version_is_loaded_once_and_reused() -> None:
    load = Loader()
    cache = ShadowModels(load, lambda: ACTIVE)
    first = cache.get(2)
    assert cache.get(2) is first and first.version == 2
    assert load.calls == [2] and cache.loads == 1


def test_the_active_version_is_never_loaded_again() -> None:
    load = Loader()
    cache = ShadowModels(load, lambda: ACTIVE)
    assert cache.get(1) is ACTIVE
    assert load.calls == [] and cache.loaded() == []


def test_at_most_capacity_versions_stay_loaded_least_recent_first_out() -> None:
    load = Loader()
    cache = ShadowModels(load, lambda: ACTIVE, capacity=2)
    cache.get(2)
    cache.get(3)
    cache.get(2)  # 2 is now the most recently used
    cache.get(4)
    assert cache.loaded() == [2, 4]
    cache.get(3)  # dropped before: loaded again
    assert load.calls == [2, 3, 4, 3]


def test_a_version_that_cannot_load_raises_and_is_not_kept() -> None:
    load = Loader(missing=(9,))
    cache = ShadowModels(load, lambda: ACTIVE)
    with pytest.raises(LookupError):
        cache.get(9)
    assert cache.loaded() == []


def test_concurrent_first_uses_load_once() -> None:
    load = Loader()
    cache = ShadowModels(load, lambda: ACTIVE)
    got: list[object] = []
    threads = [threading.Thread(target=lambda: got.append(cache.get(5))) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(10)
    assert load.calls == [5] and len({id(m) for m in got}) == 1


def test_a_failed_version_is_retried_only_after_a_pause() -> None:
    load = Loader(missing=(9,))
    now = [100.0]
    cache = ShadowModels(load, lambda: ACTIVE, retry_after_s=10.0, clock=lambda: now[0])
    for _ in range(3):
        with pytest.raises(LookupError):
            cache.get(9)
    assert load.calls == [9]  # frames during the pause cost no new load
    now[0] += 11.0
    load.missing = ()
    assert cache.get(9).version == 9 and load.calls == [9, 9]
