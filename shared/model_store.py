"""A versioned model store in the style of TF Serving, on a local folder or any fsspec URL.

Layout under the root:
    versions/<N>/model.keras, versions/<N>/meta.json   (immutable once published)
    ACTIVE                                             (the active version number)
A version exists only once its meta.json does. Locally a version is staged in a private folder
and renamed into place in one step; on object stores meta.json is written last, as the commit
marker. Either way a concurrent reader never sees a half-written version.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import shutil
import tempfile
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import fsspec
from fsspec.implementations.local import LocalFileSystem

log = logging.getLogger(__name__)

MODEL_FILE = "model.keras"
META_FILE = "meta.json"
BUNDLED_DIR = Path(__file__).parent / "bundled"


class StoreError(RuntimeError):
    """The store cannot do what was asked (unknown version, nothing to seed from, ...)."""


class VersionExists(StoreError):
    """A version number asked for explicitly is already taken."""


class ModelStore:
    """Integer-versioned, immutable model versions plus one atomically moved ACTIVE pointer."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.fs, root = fsspec.core.url_to_fs(url)
        self.root = root.rstrip("/")
        # A plain path is used in place; any URL (file:// included) is treated as remote:
        # versions are downloaded into a local cache, as on a fresh cloud machine.
        self.is_local = isinstance(self.fs, LocalFileSystem) and "://" not in url
        self.fs.makedirs(self._p("versions"), exist_ok=True)

    def _p(self, *parts: object) -> str:
        return "/".join([self.root, *map(str, parts)])

    # ------------------------------------------------------------------ reading
    def versions(self) -> list[int]:
        """Published versions, oldest first; staging folders and partial uploads are ignored."""
        found = []
        for entry in self.fs.ls(self._p("versions"), detail=False):
            name = entry.rstrip("/").rsplit("/", 1)[-1]
            if name.isdigit() and self.fs.exists(self._p("versions", name, META_FILE)):
                found.append(int(name))
        return sorted(found)

    def meta(self, version: int) -> dict[str, Any]:
        """The metrics and provenance recorded when `version` was published."""
        path = self._p("versions", version, META_FILE)
        if not self.fs.exists(path):
            raise StoreError(f"model version {version} does not exist in {self.url}")
        return json.loads(self.fs.cat_file(path))

    def active(self) -> int | None:
        """The active version, or None for an empty store."""
        path = self._p("ACTIVE")
        if not self.fs.exists(path):
            return None
        text = self.fs.cat_file(path).decode().strip()
        return int(text) if text.isdigit() else None

    def list(self) -> list[dict[str, Any]]:
        """Every version's meta, with `version` and `active` filled in, oldest first."""
        active = self.active()
        rows = []
        for v in self.versions():
            meta = self.meta(v)
            rows.append({**meta, "version": v, "active": v == active})
        return rows

    def fetch(self, version: int, cache_dir: str | os.PathLike) -> Path:
        """Return a local folder holding `version`, downloading it once for remote stores."""
        if self.is_local:
            local = Path(self._p("versions", version))
            if not (local / META_FILE).exists():
                raise StoreError(f"model version {version} does not exist in {self.url}")
            return local
        # keyed by store too: two stores (or a wiped, re-seeded one) never share "version 1"
        store_key = hashlib.sha1(self.url.encode()).hexdigest()[:12]
        target = Path(cache_dir) / store_key / str(version)
        if (target / META_FILE).exists():
            return target
        self.meta(version)  # raises if absent
        target.parent.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=f".{version}-", dir=target.parent))
        for name in (MODEL_FILE, META_FILE):
            self.fs.get_file(self._p("versions", version, name), str(staging / name))
        try:
            os.rename(staging, target)
        except OSError:  # another process of this machine fetched it first
            shutil.rmtree(staging, ignore_errors=True)
        return target

    # ------------------------------------------------------------------ writing
    def publish(self, model_file: str | os.PathLike, meta: dict[str, Any],
                version: int | None = None) -> int:
        """Publish a model file as the next version (or exactly `version`, else VersionExists)
        and return its number; it is not activated."""
        meta = {"created": datetime.now(UTC).isoformat(timespec="seconds"), **meta}
        if isinstance(self.fs, LocalFileSystem):  # file:// too: stage, then rename
            return self._publish_local(Path(model_file), meta, version)
        return self._publish_remote(Path(model_file), meta, version)

    def _publish_local(self, model_file: Path, meta: dict[str, Any], fixed: int | None) -> int:
        staging = Path(self._p(f".staging-{uuid.uuid4().hex}"))
        staging.mkdir(parents=True)
        try:
            shutil.copyfile(model_file, staging / MODEL_FILE)
            for _ in range(100):  # another publisher may take the number we picked
                version = fixed or (max(self.versions(), default=0)) + 1
                (staging / META_FILE).write_text(json.dumps({**meta, "version": version}, indent=2))
                try:
                    os.rename(staging, self._p("versions", version))  # atomic; fails if taken
                    break
                except OSError:
                    if fixed:
                        raise VersionExists(f"version {fixed} already exists") from None
            else:
                raise StoreError(f"could not claim a version number in {self.url}")
        finally:
            shutil.rmtree(staging, ignore_errors=True)
        log.info("published model version %d to %s", version, self.url)
        return version

    def _publish_remote(self, model_file: Path, meta: dict[str, Any], fixed: int | None) -> int:
        if fixed and self.fs.exists(self._p("versions", fixed)):
            raise VersionExists(f"version {fixed} already exists")
        version = fixed or (max(self.versions(), default=0)) + 1
        while self.fs.exists(self._p("versions", version)):
            version += 1
        self.fs.put_file(str(model_file), self._p("versions", version, MODEL_FILE))
        # meta.json last: it is the commit marker readers look for
        body = json.dumps({**meta, "version": version}, indent=2).encode()
        self.fs.pipe_file(self._p("versions", version, META_FILE), body)
        log.info("published model version %d to %s", version, self.url)
        return version

    def activate(self, version: int) -> None:
        """Point ACTIVE at `version` in one atomic write (a rollback is the same call)."""
        meta = self.meta(version)
        if meta.get("status") == "rejected":
            log.warning("activating version %d although training rejected it", version)
        body = f"{version}\n".encode()
        if isinstance(self.fs, LocalFileSystem):
            tmp = self._p(f".ACTIVE-{uuid.uuid4().hex}")
            Path(tmp).write_bytes(body)
            os.replace(tmp, self._p("ACTIVE"))
        else:
            self.fs.pipe_file(self._p("ACTIVE"), body)
        log.info("model version %d is now active in %s", version, self.url)

    def ensure_seeded(self, bundled_dir: Path = BUNDLED_DIR) -> int:
        """Give an empty store the bundled default model, so a fresh machine can predict."""
        active = self.active()
        if active is not None:
            return active
        if not self.versions():
            bundled_model = bundled_dir / MODEL_FILE
            if not bundled_model.exists():
                raise StoreError(f"the store {self.url} is empty and no bundled model exists")
            meta = json.loads((bundled_dir / META_FILE).read_text())
            meta.pop("version", None)
            meta["source"] = "bundled default model"
            try:  # always as version 1, so workers starting together seed it only once
                self.publish(bundled_model, meta, version=1)
            except VersionExists:
                log.info("another process seeded %s first", self.url)
        if self.active() is None:
            self.activate(self.versions()[-1])
        return self.active()  # type: ignore[return-value]
