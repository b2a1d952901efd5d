"""`digitflow predict`: classify files locally, through the same pipeline the workers use."""

from __future__ import annotations

import sys

import numpy as np

from cli.rows import format_row
from shared.number import classify_mixed, number_slots
from shared.prediction import classify_items
from shared.preprocess import load_file, to_mnist
from shared.segment import Slot


def prepare_file(path: str) -> np.ndarray | None:
    """A PNG/JPEG/.npy file -> MNIST-style digit (None when empty); raises InvalidInput."""
    return to_mnist(load_file(path))


def file_slots(path: str) -> list[Slot]:
    """A PNG/JPEG/.npy file -> the digit places of the number it shows; raises InvalidInput."""
    return number_slots(load_file(path))


def predict(files: list[str], as_json: bool = False, version: int | None = None,
            number: bool = False) -> int:
    """Print one line per file, in the order given; unreadable files do not stop the rest."""
    from shared.classifier import load_classifier
    from shared.model_store import ModelStore
    from shared.settings import get_settings

    settings = get_settings()
    store = ModelStore(settings.model_store)
    version = version if version is not None else store.ensure_seeded()
    model = load_classifier(store, version, settings.model_cache)

    def forward(digits: np.ndarray) -> tuple[np.ndarray, int]:
        return model.score(digits), version  # scored rows: confidence, rejected

    if number:
        results = classify_mixed(files, lambda _: True, prepare_file, file_slots, forward,
                                 version)
    else:
        results = classify_items(files, prepare_file, forward, version)
    rows = [{"file": path, **res} for path, res in zip(files, results, strict=True)]
    for row in rows:
        print(format_row(row, as_json))
    return 1 if any("error" in r for r in rows) else 0


if __name__ == "__main__":
    sys.exit(predict(sys.argv[1:]))
