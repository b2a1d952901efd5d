"""The data cache builds once per key and rebuilds when the key changes."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from trainer.data.cache import cached


def test_arrays_are_built_once_per_key(tmp_path: Path) -> None:
    calls: list[int] = []

    def build() -> dict[str, np.ndarray]:
        calls.append(1)
        return {"x": np.arange(5, dtype=np.uint8)}

    first = cached(tmp_path, "set", "k1", build)
    again = cached(tmp_path, "set", "k1", build)
    assert len(calls) == 1 and np.array_equal(first["x"], again["x"])
    cached(tmp_path, "set", "k2", build)
    assert len(calls) == 2
    cached(None, "set", "k1", build)  # no cache folder: always built
    assert len(calls) == 3
