"""Each data source, prepared as serving prepares a drawing, and cached.

A `LabelledSet` is uint8 28x28 digits straight out of `shared.preprocess.to_mnist` plus labels
(and, for pendigits, the writer of each digit, so folds split by writer, never by digit).
"""

from __future__ import annotations

import logging
import multiprocessing
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from shared.mnist import load_mnist
from shared.preprocess import to_mnist_batch
from trainer.data import pendigits, strokes, usps
from trainer.data.cache import PIPELINE_FILES, cache_key, cached

log = logging.getLogger(__name__)

SMOKE_TEST_SIZE = 1000  # with `limit`, evaluate on only this many digits of each set
PEN_LIMIT_SHARE = 5  # with `limit`, draw limit // 5 pen digits: each costs 5 drawings
RENDER_WORKERS = 2
PEN_SEED = 20240


@dataclass
class LabelledSet:
    """Preprocessed digits, their labels and (when known) their writers."""

    name: str
    x: np.ndarray  # (n, 28, 28) uint8
    y: np.ndarray  # (n,) int64
    writers: np.ndarray | None = None

    def __len__(self) -> int:
        return len(self.y)

    def subset(self, keep: np.ndarray, name: str | None = None) -> LabelledSet:
        """The items selected by a boolean mask or index array."""
        writers = None if self.writers is None else self.writers[keep]
        return LabelledSet(name or self.name, self.x[keep], self.y[keep], writers)

    def head(self, n: int | None) -> LabelledSet:
        """The first n items (all when n is None)."""
        return self if n is None else self.subset(np.arange(min(n, len(self))))


@dataclass
class PenData:
    """Pendigits: `pool[r]` is the r-th random drawing of every digit, `plain` the page's own
    brush with no jitter (what evaluation reads)."""

    pool: np.ndarray  # (renders, n, 28, 28) uint8
    plain: LabelledSet

    def render(self, r: int) -> LabelledSet:
        """The r-th random drawing of every digit (r wraps around the pool)."""
        p = self.plain
        return LabelledSet("pendigits", self.pool[r % len(self.pool)], p.y, p.writers)

    def without_writers(self, writers: np.ndarray) -> PenData:
        """The digits of every other writer."""
        keep = ~np.isin(self.plain.writers, writers)
        return PenData(self.pool[:, keep], self.plain.subset(keep))


def _drop_empty(name: str, digits: np.ndarray, empty: np.ndarray, labels: np.ndarray
                ) -> LabelledSet:
    if empty.any():
        log.warning("dropping %d empty %s images", int(empty.sum()), name)
    return LabelledSet(name, digits[~empty], np.asarray(labels, np.int64)[~empty])


def mnist_sets(folder: Path | None, cache_dir: Path | None, limit: int | None = None
               ) -> tuple[LabelledSet, LabelledSet]:
    """MNIST train and test through `to_mnist_batch`; only full runs are cached."""
    def build(n_train: int | None, n_test: int | None) -> dict[str, np.ndarray]:
        train, test = load_mnist("train", folder), load_mnist("test", folder)
        tr = _drop_empty("mnist train", *to_mnist_batch(train.images[:n_train]),
                         train.labels[:n_train])
        te = _drop_empty("mnist test", *to_mnist_batch(test.images[:n_test]),
                         test.labels[:n_test])
        return {"x_train": tr.x, "y_train": tr.y, "x_test": te.x, "y_test": te.y}

    if limit is not None:
        z = build(limit, SMOKE_TEST_SIZE)
    else:
        files = list(folder.iterdir()) if folder is not None else []
        key = cache_key([f for f in files if f.is_file()], PIPELINE_FILES,
                        str(folder) if folder else "keras-download")
        z = cached(cache_dir, "mnist", key, lambda: build(None, None))
    return (LabelledSet("mnist train", z["x_train"], z["y_train"]),
            LabelledSet("mnist_test", z["x_test"], z["y_test"]))


def usps_sets(folder: Path, cache_dir: Path | None, limit: int | None = None
              ) -> tuple[LabelledSet, LabelledSet]:
    """USPS train and test through the product's PNG path (`usps.prepare_usps`)."""
    def build() -> dict[str, np.ndarray]:
        xtr, ytr = usps.prepare_usps(*usps.load_usps(folder, "train"))
        xte, yte = usps.prepare_usps(*usps.load_usps(folder, "test"))
        return {"x_train": xtr, "y_train": ytr, "x_test": xte, "y_test": yte}

    if limit is not None:  # smoke runs: prepare only what they use, cache nothing
        (xtr, ytr), (xte, yte) = usps.load_usps(folder, "train"), usps.load_usps(folder, "test")
        z = dict(zip(("x_train", "y_train"), usps.prepare_usps(xtr[:limit], ytr[:limit]),
                     strict=True))
        z.update(zip(("x_test", "y_test"), usps.prepare_usps(xte[:SMOKE_TEST_SIZE],
                                                            yte[:SMOKE_TEST_SIZE]), strict=True))
    else:
        files = [folder / usps.TRAIN_FILE, folder / usps.TEST_FILE]
        z = cached(cache_dir, "usps", cache_key(files, [*PIPELINE_FILES, Path(usps.__file__)]),
                   build)
    return (LabelledSet("usps train", z["x_train"], z["y_train"]),
            LabelledSet("usps_test", z["x_test"], z["y_test"]))


def _render_chunk(args: tuple[list[pendigits.PenDigit], list[int], int, strokes.RenderConfig]
                  ) -> tuple[np.ndarray, np.ndarray]:
    """Worker: `renders` random drawings and the plain drawing of some digits."""
    digits, ids, renders, cfg = args
    pool = np.zeros((renders, len(digits), 28, 28), np.uint8)
    plain = np.zeros((len(digits), 28, 28), np.uint8)
    for j, (digit, i) in enumerate(zip(digits, ids, strict=True)):
        base = strokes.render_plain(digit.strokes)
        plain[j] = base if base is not None else 0
        for r in range(renders):
            out = strokes.render_variant(digit.strokes, np.random.default_rng([PEN_SEED, i, r]),
                                         cfg)
            pool[r, j] = out if out is not None else plain[j]
    return pool, plain


def render_all(digits: list[pendigits.PenDigit], renders: int, cfg: strokes.RenderConfig,
               workers: int = RENDER_WORKERS) -> tuple[np.ndarray, np.ndarray]:
    """Render every digit on `workers` processes (spawned: safe after TensorFlow loaded)."""
    ids = list(range(len(digits)))
    step = max(1, len(digits) // (4 * workers) + 1)
    jobs = [(digits[s : s + step], ids[s : s + step], renders, cfg)
            for s in range(0, len(digits), step)]
    if workers <= 1 or len(jobs) == 1:
        parts = [_render_chunk(job) for job in jobs]
    else:
        ctx = multiprocessing.get_context("spawn")
        with ProcessPoolExecutor(workers, mp_context=ctx) as ex:
            parts = list(ex.map(_render_chunk, jobs))
    return (np.concatenate([p[0] for p in parts], axis=1),
            np.concatenate([p[1] for p in parts]))


def pendigits_data(folder: Path, cache_dir: Path | None, renders: int,
                   cfg: strokes.RenderConfig, limit: int | None = None) -> PenData:
    """Every pen digit drawn `renders` times at random and once plainly, as the page draws."""
    digits = pendigits.load_pendigits(folder)
    if limit is not None:
        digits = digits[: max(10, limit // PEN_LIMIT_SHARE)]

    def build() -> dict[str, np.ndarray]:
        pool, plain = render_all(digits, renders, cfg)
        return {"pool": pool, "plain": plain}

    code = [*PIPELINE_FILES, Path(strokes.__file__), Path(pendigits.__file__)]
    key = cache_key([folder / pendigits.FILE], code, f"{renders}:{cfg}:{limit}")
    z = cached(cache_dir if limit is None else None, "pendigits", key, build)
    labels = np.asarray([d.label for d in digits], np.int64)
    writers = np.asarray([d.writer for d in digits], np.int64)
    return PenData(z["pool"], LabelledSet("pendigits", z["plain"], labels, writers))
