"""The MNIST data source: IDX files (gzipped or not) or Keras' `mnist.npz`, from any folder.

The caller names the folder (`--data DIR`, else the `MNIST_DIR` setting, read by the entry
point). Only when no folder is given do we fall back to the standard Keras download, so
offline machines get a clear message instead.
"""

from __future__ import annotations

import gzip
import logging
import os
import struct
import zlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np

log = logging.getLogger(__name__)

IMAGES_MAGIC = 2051
LABELS_MAGIC = 2049
SPLITS = {
    "train": ("train-images-idx3-ubyte", "train-labels-idx1-ubyte"),
    "test": ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"),
}
WHERE_TO_GET = (
    "Get the four MNIST IDX files (train-images-idx3-ubyte.gz, train-labels-idx1-ubyte.gz, "
    "t10k-images-idx3-ubyte.gz, t10k-labels-idx1-ubyte.gz) from "
    "https://storage.googleapis.com/cvdf-datasets/mnist/ or Keras' mnist.npz, put them in a "
    "folder and pass --data DIR or set MNIST_DIR."
)


class DatasetError(RuntimeError):
    """The dataset is missing or malformed; the message says what to do."""


@dataclass(frozen=True)
class Split:
    images: np.ndarray  # (n, 28, 28) uint8, ink high
    labels: np.ndarray  # (n,) uint8

    def __len__(self) -> int:
        return len(self.labels)


def _open(path: Path) -> bytes:
    try:
        with (gzip.open(path, "rb") if path.suffix == ".gz" else open(path, "rb")) as fh:
            return fh.read()
    except (OSError, EOFError, zlib.error) as exc:
        raise DatasetError(f"cannot read {path} ({exc}); it may be a partial download. "
                           f"{WHERE_TO_GET}") from None


def _find(folder: Path, stem: str) -> Path | None:
    for name in (stem + ".gz", stem, stem.replace("-idx", ".idx")):
        if (folder / name).is_file():
            return folder / name
    return None


def parse_idx_images(raw: bytes) -> np.ndarray:
    """Parse an IDX3 image file, checking the magic number and that the size adds up."""
    if len(raw) < 16:
        raise DatasetError("IDX image file is truncated (header shorter than 16 bytes)")
    magic, n, rows, cols = struct.unpack(">IIII", raw[:16])
    if magic != IMAGES_MAGIC:
        raise DatasetError(f"not an IDX image file: magic {magic}, expected {IMAGES_MAGIC}")
    if len(raw) != 16 + n * rows * cols:
        raise DatasetError(
            f"IDX image file holds {len(raw) - 16} bytes, header says {n}x{rows}x{cols}"
        )
    return np.frombuffer(raw, np.uint8, offset=16).reshape(n, rows, cols)


def parse_idx_labels(raw: bytes) -> np.ndarray:
    """Parse an IDX1 label file, checking the magic number, size and label range."""
    if len(raw) < 8:
        raise DatasetError("IDX label file is truncated (header shorter than 8 bytes)")
    magic, n = struct.unpack(">II", raw[:8])
    if magic != LABELS_MAGIC:
        raise DatasetError(f"not an IDX label file: magic {magic}, expected {LABELS_MAGIC}")
    if len(raw) != 8 + n:
        raise DatasetError(f"IDX label file holds {len(raw) - 8} labels, header says {n}")
    labels = np.frombuffer(raw, np.uint8, offset=8)
    if labels.size and labels.max() > 9:
        raise DatasetError(f"IDX label file has a label {labels.max()} outside 0-9")
    return labels


def _check(split: Split, name: str) -> Split:
    if split.images.shape[1:] != (28, 28):
        raise DatasetError(f"{name} images are {split.images.shape[1:]}, expected 28x28")
    if len(split.images) != len(split.labels):
        raise DatasetError(f"{name}: {len(split.images)} images but {len(split.labels)} labels")
    return split


def load_split_from_dir(folder: Path, split: str) -> Split:
    """Load one split from IDX files (gz or raw) or from mnist.npz in `folder`."""
    img_stem, lbl_stem = SPLITS[split]
    img_path, lbl_path = _find(folder, img_stem), _find(folder, lbl_stem)
    if img_path and lbl_path:
        images = parse_idx_images(_open(img_path))
        labels = parse_idx_labels(_open(lbl_path))
        return _check(Split(images, labels), split)
    npz = folder / "mnist.npz"
    if npz.is_file():
        key = "train" if split == "train" else "test"
        with np.load(npz) as data:
            x, y = data[f"x_{key}"], data[f"y_{key}"]
        if y.size and (y.min() < 0 or y.max() > 9):
            raise DatasetError(f"{npz} has labels outside 0-9")
        return _check(Split(x, y.astype(np.uint8)), split)
    raise DatasetError(f"no MNIST {split} files in {folder}. {WHERE_TO_GET}")


def _keras_download(split: str) -> Split:
    try:
        from keras.datasets import mnist  # heavy import: only on this fallback path

        (xtr, ytr), (xte, yte) = mnist.load_data()
    except Exception as exc:  # offline, proxy, etc.
        raise DatasetError(f"MNIST not found locally and the Keras download failed ({exc}). "
                           f"{WHERE_TO_GET}") from exc
    return Split(xtr, ytr) if split == "train" else Split(xte, yte)


def resolve_data_dir(data_dir: str | os.PathLike | None = None) -> Path | None:
    """The data folder the caller named (`~` expanded), or None to try the Keras download."""
    return Path(data_dir).expanduser() if data_dir else None


def load_mnist(split: str, data_dir: str | os.PathLike | None = None) -> Split:
    """Load `split` ('train' or 'test') from the configured folder, else the Keras download."""
    if split not in SPLITS:
        raise ValueError(f"split must be 'train' or 'test', not {split!r}")
    folder = resolve_data_dir(data_dir)
    if folder is not None:
        if not folder.is_dir():
            raise DatasetError(f"MNIST folder {folder} does not exist. {WHERE_TO_GET}")
        return load_split_from_dir(folder, split)
    log.info("no --data/MNIST_DIR given; trying the standard Keras download")
    return _keras_download(split)
