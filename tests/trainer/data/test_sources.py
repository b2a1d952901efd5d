"""Where each source is found: a data root, an MNIST folder with siblings, env vars, off."""

from __future__ import annotations

from pathlib import Path

import pytest

from trainer.data.sources import DataSourceError, resolve_paths


def _root(tmp_path: Path) -> Path:
    for name, marker in (("mnist", "t10k-images-idx3-ubyte.gz"), ("usps", "zip.train.gz"),
                         ("pendigits", "pendigits-orig.tra.gz")):
        (tmp_path / name).mkdir()
        (tmp_path / name / marker).write_bytes(b"")
    return tmp_path


def test_a_data_root_gives_every_subfolder(tmp_path: Path) -> None:
    paths = resolve_paths(_root(tmp_path), {})
    assert (paths.mnist, paths.usps, paths.pendigits) == (
        tmp_path / "mnist", tmp_path / "usps", tmp_path / "pendigits")


def test_an_mnist_folder_finds_its_siblings(tmp_path: Path) -> None:
    root = _root(tmp_path)
    paths = resolve_paths(root / "mnist", {})
    assert paths.mnist == root / "mnist" and paths.usps == root / "usps"
    assert paths.pendigits == root / "pendigits"


def test_env_vars_point_anywhere_and_data_beats_mnist_dir(tmp_path: Path) -> None:
    root = _root(tmp_path)
    elsewhere = tmp_path / "other-usps"
    elsewhere.mkdir()
    env = {"MNIST_DIR": str(tmp_path / "ignored"), "USPS_DIR": str(elsewhere)}
    paths = resolve_paths(root / "mnist", env)
    assert paths.mnist == root / "mnist" and paths.usps == elsewhere
    only_env = resolve_paths(None, {"MNIST_DIR": str(root / "mnist")})
    assert only_env.mnist == root / "mnist" and only_env.pendigits == root / "pendigits"


def test_sources_can_be_turned_off(tmp_path: Path) -> None:
    paths = resolve_paths(_root(tmp_path), {}, off=("usps", "pendigits"))
    assert paths.usps is None and paths.pendigits is None and paths.use_mnist
    no_mnist = resolve_paths(tmp_path, {}, off=("mnist",))
    assert not no_mnist.use_mnist and no_mnist.describe()["mnist"] is None
    with pytest.raises(DataSourceError, match="unknown"):
        resolve_paths(tmp_path, {}, off=("emnist",))
    with pytest.raises(DataSourceError, match="every data source is off"):
        resolve_paths(tmp_path, {}, off=("mnist", "usps", "pendigits"))


def test_a_named_folder_that_does_not_exist_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(DataSourceError, match="does not exist"):
        resolve_paths(tmp_path / "nowhere", {})
    with pytest.raises(DataSourceError, match="pendigits folder"):
        resolve_paths(_root(tmp_path), {"PENDIGITS_DIR": str(tmp_path / "gone")})


def test_nothing_configured_means_the_keras_download_for_mnist_only() -> None:
    paths = resolve_paths(None, {})
    assert paths.mnist is None and paths.use_mnist and paths.usps is None
    assert paths.describe()["mnist"] == "keras download"
