"""Where each data source lives and which ones a run uses.

`--data DIR` is either a data root with one subfolder per source (`mnist/`, `usps/`,
`pendigits/`, as `../shared/data` is laid out) or, as before, an MNIST folder; then USPS and
pendigits are looked for beside it. `MNIST_DIR`, `USPS_DIR` and `PENDIGITS_DIR` point a source
anywhere. The environment is passed in by the entry point, never read here.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass
from pathlib import Path

SOURCES = ("mnist", "usps", "pendigits")
ENV_VARS = {"mnist": "MNIST_DIR", "usps": "USPS_DIR", "pendigits": "PENDIGITS_DIR"}
MARKERS = {"mnist": ("t10k-images-idx3-ubyte.gz", "t10k-images-idx3-ubyte", "mnist.npz"),
           "usps": ("zip.train.gz",), "pendigits": ("pendigits-orig.tra.gz",)}


class DataSourceError(RuntimeError):
    """A source was asked for but its folder is missing; the message says which."""


@dataclass(frozen=True)
class DataPaths:
    """One folder per source; None means the source is off (MNIST: the Keras download)."""

    mnist: Path | None
    usps: Path | None
    pendigits: Path | None
    use_mnist: bool = True

    def describe(self) -> dict[str, str | None]:
        """For meta.json: where each source came from."""
        mnist = (str(self.mnist) if self.mnist else "keras download") if self.use_mnist else None
        return {"mnist": mnist, "usps": str(self.usps) if self.usps else None,
                "pendigits": str(self.pendigits) if self.pendigits else None}


def _holds(folder: Path, source: str) -> bool:
    return any((folder / name).is_file() for name in MARKERS[source])


def _find(source: str, data: Path | None, env: Mapping[str, str]) -> Path | None:
    """Explicit env var first, then the root's subfolder, then a sibling of the MNIST folder."""
    if env.get(ENV_VARS[source]) and not (source == "mnist" and data is not None):
        return Path(env[ENV_VARS[source]]).expanduser()
    if data is None:
        return None
    if (data / source).is_dir():
        return data / source
    if source == "mnist":
        return data
    sibling = data.parent / source
    return sibling if _holds(sibling, source) else None


def resolve_paths(data: str | Path | None, env: Mapping[str, str],
                  off: Collection[str] = ()) -> DataPaths:
    """Pick each source's folder; `off` names sources to leave out. A folder that was named
    but does not exist is an error, so a typo never silently trains a different recipe."""
    unknown = set(off) - set(SOURCES)
    if unknown:
        raise DataSourceError(f"unknown data source(s): {', '.join(sorted(unknown))}; "
                              f"choose from {', '.join(SOURCES)}")
    data = data or env.get(ENV_VARS["mnist"])  # an MNIST_DIR finds its siblings too
    root = Path(data).expanduser() if data else None
    found = {s: (None if s in off else _find(s, root, env)) for s in SOURCES}
    for source, folder in found.items():
        if folder is not None and not folder.is_dir():
            raise DataSourceError(f"{source} folder {folder} does not exist")
    if "mnist" in off and found["usps"] is None and found["pendigits"] is None:
        raise DataSourceError("every data source is off: nothing to train on")
    return DataPaths(found["mnist"], found["usps"], found["pendigits"],
                     use_mnist="mnist" not in off)
