"""An .npz cache for prepared data, keyed on the input files, the code and the settings.

Preparing 70k MNIST digits or rendering 30k pen digits takes minutes on this CPU; both are pure
functions of their inputs, so a run pays once. Any change to the data files, to the modules
that prepare them or to the settings gives a new key, so a stale cache is never read.
"""

from __future__ import annotations

import hashlib
import logging
import os
import time
from collections.abc import Callable, Iterable
from pathlib import Path

import numpy as np

log = logging.getLogger(__name__)

ROOT = Path(__file__).resolve().parents[2]
PIPELINE_FILES = (ROOT / "shared" / "preprocess.py",)


def cache_key(files: Iterable[Path], code: Iterable[Path], extra: str = "") -> str:
    """Hash the data files' names, sizes and times, the code's bytes and `extra`."""
    h = hashlib.sha256(extra.encode())
    for path in sorted(Path(p) for p in code):
        h.update(path.read_bytes())
    for path in sorted(Path(p) for p in files):
        st = path.stat()
        h.update(f"{path.resolve()}:{st.st_size}:{st.st_mtime_ns}".encode())
    return h.hexdigest()[:16]


def cached(cache_dir: Path | None, name: str, key: str,
           build: Callable[[], dict[str, np.ndarray]]) -> dict[str, np.ndarray]:
    """Return the arrays cached under `name-key`, building and saving them the first time.
    With no `cache_dir` nothing is saved."""
    if cache_dir is None:
        return build()
    path = Path(cache_dir) / f"{name}-{key}.npz"
    if path.exists():
        with np.load(path) as z:
            log.info("using cached %s from %s", name, path)
            return {k: z[k] for k in z.files}
    started = time.perf_counter()
    arrays = build()
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(f".{os.getpid()}.tmp.npz")
    np.savez(tmp, **arrays)
    tmp.replace(path)  # atomic: a concurrent run never reads half a cache file
    log.info("prepared %s in %.1fs, cached at %s", name, time.perf_counter() - started, path)
    return arrays
