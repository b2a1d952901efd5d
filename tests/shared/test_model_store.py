"""Unit tests for shared.model_store: versions, ACTIVE pointer, fsspec URLs, seeding, atomicity."""

from __future__ import annotations

import json
import os
import threading
import uuid
from collections.abc import Iterator
from pathlib import Path

import fsspec
import pytest

from shared.model_store import META_FILE, MODEL_FILE, ModelStore, StoreError


@pytest.fixture
def model_file(tmp_path: Path) -> Path:
    """A small stand-in for model.keras (the store only copies bytes)."""
    path = tmp_path / "src" / "model.keras"
    path.parent.mkdir()
    path.write_bytes(b"weights-v1" * 100)
    return path


@pytest.fixture
def store(tmp_path: Path) -> ModelStore:
    """An empty store in a local folder."""
    return ModelStore(str(tmp_path / "store"))


@pytest.fixture
def memory_url() -> Iterator[str]:
    """A private memory:// store URL, wiped afterwards (the memory filesystem is global)."""
    url = f"memory://digitflow-test-{uuid.uuid4().hex}/models"
    yield url
    fs = fsspec.filesystem("memory")
    root = url.removeprefix("memory://").split("/")[0]
    if fs.exists(f"/{root}"):
        fs.rm(f"/{root}", recursive=True)


@pytest.fixture
def bundled(tmp_path: Path) -> Path:
    """A fake bundled model folder: a small model.keras and a meta.json."""
    folder = tmp_path / "bundled"
    folder.mkdir()
    (folder / MODEL_FILE).write_bytes(b"bundled-model" * 50)
    (folder / META_FILE).write_text(json.dumps({"version": 7, "test_accuracy": 0.991}))
    return folder


# ---------------------------------------------------------------- local folder
def test_empty_store(store: ModelStore) -> None:
    assert store.versions() == [] and store.list() == [] and store.active() is None


def test_publish_numbers_versions_1_2_3(store: ModelStore, model_file: Path) -> None:
    assert [store.publish(model_file, {"test_accuracy": 0.9 + i / 100}) for i in range(3)] == [
        1, 2, 3]
    assert store.versions() == [1, 2, 3]
    assert store.active() is None  # publishing does not activate


def test_meta_has_created_version_and_the_given_metrics(
    store: ModelStore, model_file: Path
) -> None:
    v = store.publish(model_file, {"test_accuracy": 0.99, "data": {"n_train": 60000}})
    meta = store.meta(v)
    assert meta["version"] == v == 1
    assert meta["test_accuracy"] == 0.99 and meta["data"] == {"n_train": 60000}
    from datetime import datetime

    created = datetime.fromisoformat(meta["created"])
    assert created.tzinfo is not None


def test_published_files_are_a_copy(store: ModelStore, model_file: Path) -> None:
    v = store.publish(model_file, {})
    model_file.write_bytes(b"changed later")
    local = store.fetch(v, "unused-cache")
    assert (local / MODEL_FILE).read_bytes() == b"weights-v1" * 100
    assert json.loads((local / META_FILE).read_text())["version"] == v


def test_activate_and_roll_back(store: ModelStore, model_file: Path) -> None:
    for _ in range(3):
        store.publish(model_file, {})
    store.activate(3)
    assert store.active() == 3
    store.activate(1)  # a rollback is the same call
    assert store.active() == 1
    assert [row["active"] for row in store.list()] == [True, False, False]
    assert [row["version"] for row in store.list()] == [1, 2, 3]


def test_active_survives_reopening(tmp_path: Path, model_file: Path) -> None:
    first = ModelStore(str(tmp_path / "store"))
    first.publish(model_file, {})
    first.publish(model_file, {})
    first.activate(2)
    again = ModelStore(str(tmp_path / "store"))
    assert again.active() == 2 and again.versions() == [1, 2]
    assert again.publish(model_file, {}) == 3


def test_unknown_version_is_a_store_error(store: ModelStore, model_file: Path) -> None:
    store.publish(model_file, {})
    with pytest.raises(StoreError, match="version 9 does not exist"):
        store.meta(9)
    with pytest.raises(StoreError, match="version 9"):
        store.activate(9)
    with pytest.raises(StoreError, match="version 9"):
        store.fetch(9, "unused-cache")
    assert store.active() is None  # the failed activate did not move the pointer


def test_staging_folders_and_unfinished_versions_are_not_versions(
    store: ModelStore, model_file: Path
) -> None:
    store.publish(model_file, {})
    root = Path(store.root)
    (root / "versions" / "2").mkdir()  # a version folder without meta.json: not published
    (root / "versions" / "2" / MODEL_FILE).write_bytes(b"half")
    (root / "versions" / ".3-staging").mkdir()
    assert store.versions() == [1]
    with pytest.raises(StoreError):
        store.meta(2)


def test_no_staging_leftovers_after_publish(store: ModelStore, model_file: Path) -> None:
    store.publish(model_file, {})
    store.activate(1)
    leftovers = [p.name for p in Path(store.root).iterdir() if p.name.startswith(".")]
    assert leftovers == []


def test_concurrent_publishers_get_distinct_versions(store: ModelStore, model_file: Path) -> None:
    results: list[int] = []
    lock = threading.Lock()

    def publish(tag: int) -> None:
        for _ in range(3):
            v = store.publish(model_file, {"tag": tag})
            with lock:
                results.append(v)

    threads = [threading.Thread(target=publish, args=(t,)) for t in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert sorted(results) == list(range(1, 13))
    assert store.versions() == list(range(1, 13))
    assert all(store.meta(v)["version"] == v for v in store.versions())


# ---------------------------------------------------------------- memory:// (any fsspec URL)
def test_memory_url_publish_activate_list_fetch(
    memory_url: str, model_file: Path, tmp_path: Path
) -> None:
    store = ModelStore(memory_url)
    assert not store.is_local
    assert store.publish(model_file, {"test_accuracy": 0.98}) == 1
    model_file.write_bytes(b"weights-v2")
    assert store.publish(model_file, {"test_accuracy": 0.99}) == 2
    store.activate(2)
    store.activate(1)
    rows = ModelStore(memory_url).list()  # a second handle sees the same store
    assert [(r["version"], r["active"], r["test_accuracy"]) for r in rows] == [
        (1, True, 0.98), (2, False, 0.99)]

    cache = tmp_path / "cache"
    local = store.fetch(2, cache)
    assert local.is_relative_to(cache)
    assert (local / MODEL_FILE).read_bytes() == b"weights-v2"
    assert json.loads((local / META_FILE).read_text())["version"] == 2
    assert store.fetch(2, cache) == local  # cached: fetched once
    assert [p.name for p in local.parent.iterdir() if p.name.startswith(".")] == []
    with pytest.raises(StoreError, match="version 5"):
        store.fetch(5, cache)


def test_file_url_is_treated_as_remote_and_fetched_into_the_cache(
    tmp_path: Path, model_file: Path
) -> None:
    store = ModelStore(f"file://{tmp_path / 'store'}")
    assert not store.is_local
    store.activate(store.publish(model_file, {"test_accuracy": 0.97}))
    again = ModelStore(f"file://{tmp_path / 'store'}")
    assert again.active() == 1 and again.list()[0]["test_accuracy"] == 0.97
    local = again.fetch(1, tmp_path / "cache")
    assert local.is_relative_to(tmp_path / "cache")
    assert (local / MODEL_FILE).read_bytes() == model_file.read_bytes()


def test_memory_url_unfinished_upload_is_skipped(memory_url: str, model_file: Path) -> None:
    store = ModelStore(memory_url)
    store.publish(model_file, {})
    store.fs.pipe_file(store._p("versions", 2, MODEL_FILE), b"partial upload, no meta")
    assert store.versions() == [1]
    assert store.publish(model_file, {}) == 3  # does not reuse the half-written folder


def test_two_stores_sharing_a_cache_do_not_mix_versions(
    model_file: Path, tmp_path: Path
) -> None:
    """BUG: the fetch cache is keyed by version only, so version 1 of another store is reused."""
    cache = tmp_path / "cache"  # one MODEL_CACHE (default var/cache/models) for both stores
    urls = [f"file://{tmp_path / name}" for name in ("store-a", "store-b")]
    for i, url in enumerate(urls):
        model_file.write_bytes(f"store {i}".encode())
        ModelStore(url).publish(model_file, {})
    first = ModelStore(urls[0]).fetch(1, cache)
    second = ModelStore(urls[1]).fetch(1, cache)
    assert (first / MODEL_FILE).read_bytes() == b"store 0"
    assert (second / MODEL_FILE).read_bytes() == b"store 1"


# ---------------------------------------------------------------- seeding
def test_ensure_seeded_publishes_and_activates_the_bundled_model(
    store: ModelStore, bundled: Path
) -> None:
    assert store.ensure_seeded(bundled) == 1
    assert store.versions() == [1] and store.active() == 1
    meta = store.meta(1)
    assert meta["version"] == 1  # not the bundled file's own number
    assert meta["test_accuracy"] == 0.991 and meta["source"] == "bundled default model"
    assert "created" in meta
    local = store.fetch(1, "unused-cache")
    assert (local / MODEL_FILE).read_bytes() == (bundled / MODEL_FILE).read_bytes()


def test_ensure_seeded_is_idempotent(store: ModelStore, bundled: Path) -> None:
    store.ensure_seeded(bundled)
    assert store.ensure_seeded(bundled) == 1
    assert store.versions() == [1]


def test_ensure_seeded_keeps_an_existing_active_version(
    store: ModelStore, bundled: Path, model_file: Path
) -> None:
    store.publish(model_file, {})
    store.publish(model_file, {})
    store.activate(1)
    assert store.ensure_seeded(bundled) == 1
    assert store.versions() == [1, 2]


def test_ensure_seeded_activates_the_newest_when_nothing_is_active(
    store: ModelStore, bundled: Path, model_file: Path
) -> None:
    store.publish(model_file, {})
    store.publish(model_file, {})
    assert store.ensure_seeded(bundled) == 2
    assert store.versions() == [1, 2]  # nothing was seeded on top


def test_ensure_seeded_without_a_bundled_model(store: ModelStore, tmp_path: Path) -> None:
    with pytest.raises(StoreError, match="empty and no bundled model"):
        store.ensure_seeded(tmp_path / "no-such-folder")
    assert store.versions() == []


def test_ensure_seeded_on_a_memory_store(memory_url: str, bundled: Path) -> None:
    store = ModelStore(memory_url)
    assert store.ensure_seeded(bundled) == 1
    assert ModelStore(memory_url).active() == 1


# ---------------------------------------------------------------- atomic publication
MB = 1024 * 1024
N_PUBLISH = 6


def _payload(version_hint: int) -> bytes:
    """A multi-MB model file whose size and last bytes identify it."""
    size = 6 * MB + version_hint * 4099
    tail = f"END-{version_hint:04d}".encode()
    return os.urandom(1024) * ((size - len(tail)) // 1024) + b"x" * (
        (size - len(tail)) % 1024) + tail


@pytest.mark.parametrize("kind", ["local", "file-url", "memory"])
def test_readers_never_see_a_partial_version(
    kind: str, tmp_path: Path, memory_url: str
) -> None:
    url = {"local": str(tmp_path / "store"), "file-url": f"file://{tmp_path / 'store'}",
           "memory": memory_url}[kind]
    writer, reader = ModelStore(url), ModelStore(url)
    stop = threading.Event()
    anomalies: list[str] = []
    seen: set[int] = set()
    loops = [0]

    def read_forever() -> None:
        while not stop.is_set():
            loops[0] += 1
            try:
                for v in reader.versions():
                    meta = reader.meta(v)
                    model = reader._p("versions", v, MODEL_FILE)
                    size = reader.fs.size(model)
                    if size != meta["size"]:
                        anomalies.append(f"v{v}: {size} bytes, meta says {meta['size']}")
                        continue
                    with reader.fs.open(model, "rb") as fh:
                        fh.seek(-8, os.SEEK_END)
                        if fh.read() != meta["tail"].encode():
                            anomalies.append(f"v{v}: wrong tail")
                            continue
                    seen.add(v)
            except Exception as exc:  # any failure to read a listed version is an anomaly
                anomalies.append(f"{type(exc).__name__}: {exc}")

    thread = threading.Thread(target=read_forever, daemon=True)
    thread.start()
    published = []
    try:
        while loops[0] < 1 and thread.is_alive():
            threading.Event().wait(0.001)  # the reader is running before the first publish
        reads_before_publishing = loops[0]
        for i in range(1, N_PUBLISH + 1):
            body = _payload(i)
            src = tmp_path / f"model-{i}.keras"
            src.write_bytes(body)
            published.append(writer.publish(src, {"size": len(body), "tail": f"END-{i:04d}"}))
            src.unlink()
        reads_after_last_publish = loops[0]
        while loops[0] < reads_after_last_publish + 2 and thread.is_alive():
            threading.Event().wait(0.01)  # let the reader finish two more full passes
    finally:
        stop.set()
        thread.join(30)
    assert published == list(range(1, N_PUBLISH + 1))
    assert anomalies == []
    assert seen == set(published)  # the reader did observe every new version
    assert reads_after_last_publish > reads_before_publishing  # it read while they were written


@pytest.mark.parametrize("kind", ["local", "file-url", "memory"])
def test_readers_never_see_a_missing_active_pointer_while_it_moves(
    kind: str, tmp_path: Path, memory_url: str, model_file: Path
) -> None:
    """A worker that reads ACTIVE as None would re-seed and activate the newest version."""
    url = {"local": str(tmp_path / "store"), "file-url": f"file://{tmp_path / 'store'}",
           "memory": memory_url}[kind]
    writer = ModelStore(url)
    if kind == "file-url":  # publishing through a file:// URL fails on its own (see above)
        ModelStore(str(tmp_path / "store")).publish(model_file, {})
        ModelStore(str(tmp_path / "store")).publish(model_file, {})
    else:
        writer.publish(model_file, {})
        writer.publish(model_file, {})
    writer.activate(1)
    reader = ModelStore(url)
    stop = threading.Event()
    seen: list[int | None] = []

    def read_forever() -> None:
        while not stop.is_set():
            seen.append(reader.active())

    thread = threading.Thread(target=read_forever, daemon=True)
    thread.start()
    try:
        for i in range(400):
            writer.activate(2 if i % 2 == 0 else 1)  # roll forward and back
    finally:
        stop.set()
        thread.join(30)
    values = set(seen)
    assert len(seen) > 1
    assert values <= {1, 2}, f"reader saw {sorted(values, key=str)} in {len(seen)} reads"


def test_workers_seeding_an_empty_store_together_publish_one_version(tmp_path: Path) -> None:
    """Several workers start at once on an empty store: the bundled model lands once."""
    import threading

    from shared.model_store import BUNDLED_DIR

    url = str(tmp_path / "store")
    barrier = threading.Barrier(6)
    seen: list[int] = []

    def seed() -> None:
        store = ModelStore(url)
        barrier.wait()
        seen.append(store.ensure_seeded(BUNDLED_DIR))

    threads = [threading.Thread(target=seed) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert ModelStore(url).versions() == [1]
    assert seen == [1] * 6
