"""Unit tests for shared.mnist: IDX parsing and validation, folder layouts, --data vs MNIST_DIR."""

from __future__ import annotations

import gzip
import struct
from pathlib import Path

import numpy as np
import pytest

from shared.mnist import (
    IMAGES_MAGIC,
    LABELS_MAGIC,
    DatasetError,
    load_mnist,
    parse_idx_images,
    parse_idx_labels,
    resolve_data_dir,
)

STEMS = {
    "train": ("train-images-idx3-ubyte", "train-labels-idx1-ubyte"),
    "test": ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"),
}


def idx_images(images: np.ndarray, magic: int = IMAGES_MAGIC, count: int | None = None) -> bytes:
    """Encode uint8 images (n, rows, cols) as an IDX3 file; `count` overrides the header's n."""
    n, rows, cols = images.shape
    header = struct.pack(">IIII", magic, n if count is None else count, rows, cols)
    return header + images.astype(np.uint8).tobytes()


def idx_labels(labels: np.ndarray, magic: int = LABELS_MAGIC, count: int | None = None) -> bytes:
    """Encode uint8 labels as an IDX1 file; `count` overrides the header's n."""
    header = struct.pack(">II", magic, len(labels) if count is None else count)
    return header + np.asarray(labels, np.uint8).tobytes()


def sample(n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Return `n` random 28x28 uint8 images and labels 0-9."""
    rng = np.random.default_rng(seed)
    return rng.integers(0, 256, (n, 28, 28), dtype=np.uint8), rng.integers(0, 10, n, np.uint8)


def write_split(folder: Path, split: str, images: np.ndarray, labels: np.ndarray,
                gz: bool = True, name_style: str = "dash") -> None:
    """Write one split as IDX files (gzipped or raw) named in the usual layouts."""
    folder.mkdir(parents=True, exist_ok=True)
    for stem, raw in zip(STEMS[split], (idx_images(images), idx_labels(labels)), strict=True):
        if name_style == "dot":  # e.g. train-images.idx3-ubyte, as some mirrors name them
            stem = stem.replace("-idx", ".idx")
        if gz:
            (folder / f"{stem}.gz").write_bytes(gzip.compress(raw))
        else:
            (folder / stem).write_bytes(raw)


# ---------------------------------------------------------------- parsing
def test_parse_round_trips() -> None:
    images, labels = sample(3, 0)
    assert np.array_equal(parse_idx_images(idx_images(images)), images)
    assert np.array_equal(parse_idx_labels(idx_labels(labels)), labels)


def test_parse_empty_files() -> None:
    assert parse_idx_images(idx_images(np.zeros((0, 28, 28), np.uint8))).shape == (0, 28, 28)
    assert parse_idx_labels(idx_labels(np.zeros(0, np.uint8))).shape == (0,)


@pytest.mark.parametrize(
    ("raw", "match"),
    [
        (idx_images(sample(2, 0)[0], magic=LABELS_MAGIC), "magic 2049, expected 2051"),
        (idx_images(sample(2, 0)[0], magic=0x1F8B0800), "not an IDX image file"),
        (idx_images(sample(2, 0)[0])[:10], "truncated"),
        (b"", "truncated"),
        (idx_images(sample(2, 0)[0])[:-1], "header says 2x28x28"),
        (idx_images(sample(2, 0)[0], count=3), "header says 3x28x28"),
        (idx_images(sample(2, 0)[0]) + b"\0", "header says 2x28x28"),
    ],
    ids=["labels-magic", "gzip-magic", "short-header", "empty", "truncated-body", "count-too-high",
         "trailing-byte"],
)
def test_parse_images_rejects(raw: bytes, match: str) -> None:
    with pytest.raises(DatasetError, match=match):
        parse_idx_images(raw)


@pytest.mark.parametrize(
    ("raw", "match"),
    [
        (idx_labels(np.arange(5), magic=IMAGES_MAGIC), "magic 2051, expected 2049"),
        (idx_labels(np.arange(5))[:6], "truncated"),
        (idx_labels(np.arange(5))[:-2], "holds 3 labels, header says 5"),
        (idx_labels(np.arange(5), count=4), "holds 5 labels, header says 4"),
        (idx_labels(np.array([1, 2, 10])), "label 10 outside 0-9"),
        (idx_labels(np.array([255, 0])), "label 255"),
    ],
    ids=["images-magic", "short-header", "truncated-body", "count-too-low", "label-10",
         "label-255"],
)
def test_parse_labels_rejects(raw: bytes, match: str) -> None:
    with pytest.raises(DatasetError, match=match):
        parse_idx_labels(raw)


# ---------------------------------------------------------------- loading from a folder
@pytest.mark.parametrize(
    ("gz", "name_style"), [(True, "dash"), (False, "dash"), (False, "dot")]
)
def test_load_from_idx_files(tmp_path: Path, gz: bool, name_style: str) -> None:
    train, test = sample(4, 1), sample(3, 2)
    write_split(tmp_path, "train", *train, gz=gz, name_style=name_style)
    write_split(tmp_path, "test", *test, gz=gz, name_style=name_style)
    got_train, got_test = load_mnist("train", tmp_path), load_mnist("test", tmp_path)
    assert len(got_train) == 4 and len(got_test) == 3
    assert np.array_equal(got_train.images, train[0]) and np.array_equal(got_train.labels, train[1])
    assert np.array_equal(got_test.images, test[0]) and np.array_equal(got_test.labels, test[1])
    assert got_test.images.dtype == np.uint8 and got_test.labels.dtype == np.uint8


def test_load_from_mnist_npz(tmp_path: Path) -> None:
    (xtr, ytr), (xte, yte) = sample(5, 3), sample(2, 4)
    np.savez(tmp_path / "mnist.npz", x_train=xtr, y_train=ytr.astype(np.int64),
             x_test=xte, y_test=yte.astype(np.int64))
    train, test = load_mnist("train", tmp_path), load_mnist("test", tmp_path)
    assert np.array_equal(train.images, xtr) and np.array_equal(train.labels, ytr)
    assert np.array_equal(test.images, xte) and np.array_equal(test.labels, yte)
    assert test.labels.dtype == np.uint8


def test_idx_files_take_precedence_over_npz(tmp_path: Path) -> None:
    idx, other = sample(2, 5), sample(6, 6)
    write_split(tmp_path, "test", *idx)
    np.savez(tmp_path / "mnist.npz", x_train=other[0], y_train=other[1],
             x_test=other[0], y_test=other[1])
    assert np.array_equal(load_mnist("test", tmp_path).images, idx[0])


def test_npz_with_wrong_image_size_is_rejected(tmp_path: Path) -> None:
    bad = np.zeros((2, 32, 32), np.uint8)
    np.savez(tmp_path / "mnist.npz", x_train=bad, y_train=np.zeros(2), x_test=bad,
             y_test=np.zeros(2))
    with pytest.raises(DatasetError, match="expected 28x28"):
        load_mnist("test", tmp_path)


def test_npz_with_a_label_above_9_is_rejected(tmp_path: Path) -> None:
    """BUG: the IDX path checks the label range but the mnist.npz path does not."""
    images, _ = sample(2, 7)
    np.savez(tmp_path / "mnist.npz", x_train=images, y_train=np.array([1, 12]),
             x_test=images, y_test=np.array([1, 12]))
    with pytest.raises(DatasetError, match="outside 0-9"):
        load_mnist("test", tmp_path)


def test_images_and_labels_count_mismatch(tmp_path: Path) -> None:
    images, labels = sample(3, 8)
    write_split(tmp_path, "test", images, labels[:2])
    with pytest.raises(DatasetError, match="3 images but 2 labels"):
        load_mnist("test", tmp_path)


def test_non_28x28_idx_images_are_rejected(tmp_path: Path) -> None:
    write_split(tmp_path, "test", np.zeros((2, 20, 20), np.uint8), np.array([1, 2]))
    with pytest.raises(DatasetError, match="expected 28x28"):
        load_mnist("test", tmp_path)


def test_bad_magic_in_a_folder_file_is_a_dataset_error(tmp_path: Path) -> None:
    images, labels = sample(2, 9)
    write_split(tmp_path, "test", images, labels, gz=False)
    (tmp_path / "t10k-labels-idx1-ubyte").write_bytes(idx_labels(labels, magic=1234))
    with pytest.raises(DatasetError, match="magic 1234"):
        load_mnist("test", tmp_path)


def test_truncated_gz_download_is_a_dataset_error(tmp_path: Path) -> None:
    """BUG: a partly downloaded .gz raises EOFError from gzip, not a DatasetError."""
    images, labels = sample(20, 10)
    write_split(tmp_path, "test", images, labels)
    path = tmp_path / "t10k-images-idx3-ubyte.gz"
    raw = path.read_bytes()
    path.write_bytes(raw[: len(raw) // 2])
    with pytest.raises(DatasetError):
        load_mnist("test", tmp_path)


def test_missing_folder_says_where_to_get_the_data(tmp_path: Path) -> None:
    missing = tmp_path / "nowhere"
    with pytest.raises(DatasetError) as err:
        load_mnist("train", missing)
    message = str(err.value)
    assert str(missing) in message and "does not exist" in message
    assert "train-images-idx3-ubyte.gz" in message and "https://" in message
    assert "--data" in message and "MNIST_DIR" in message


def test_empty_folder_says_where_to_get_the_data(tmp_path: Path) -> None:
    write_split(tmp_path, "train", *sample(2, 11))  # train only: test is missing
    with pytest.raises(DatasetError) as err:
        load_mnist("test", tmp_path)
    message = str(err.value)
    assert "no MNIST test files" in message and str(tmp_path) in message
    assert "t10k-images-idx3-ubyte.gz" in message and "MNIST_DIR" in message


def test_only_images_without_labels_is_missing(tmp_path: Path) -> None:
    write_split(tmp_path, "test", *sample(2, 12))
    (tmp_path / "t10k-labels-idx1-ubyte.gz").unlink()
    with pytest.raises(DatasetError, match="no MNIST test files"):
        load_mnist("test", tmp_path)


def test_unknown_split_is_a_value_error(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="'train' or 'test'"):
        load_mnist("validation", tmp_path)


# ---------------------------------------------------------------- the folder is the caller's
def test_the_named_folder_is_used(tmp_path: Path) -> None:
    from_arg = sample(2, 13)
    write_split(tmp_path / "arg", "test", *from_arg)
    assert resolve_data_dir(tmp_path / "arg") == tmp_path / "arg"
    got = load_mnist("test", str(tmp_path / "arg"))
    assert np.array_equal(got.images, from_arg[0])


def test_mnist_dir_in_the_environment_is_not_read_here(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """MNIST_DIR is a setting: entry points read it and pass it; the library never does."""
    monkeypatch.setenv("MNIST_DIR", str(tmp_path))
    assert resolve_data_dir() is None
    assert resolve_data_dir("") is None


def test_a_folder_pointing_nowhere_is_reported(tmp_path: Path) -> None:
    with pytest.raises(DatasetError, match="gone does not exist.*MNIST_DIR"):
        load_mnist("test", tmp_path / "gone")


def test_home_is_expanded(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("HOME", str(tmp_path))
    assert resolve_data_dir("~/mnist") == tmp_path / "mnist"


def test_real_mnist_test_split(mnist_dir: Path) -> None:
    split = load_mnist("test", mnist_dir)
    assert split.images.shape == (10_000, 28, 28) and split.labels.shape == (10_000,)
    assert sorted(set(split.labels.tolist())) == list(range(10))
