"""`digitflow predict`: classify files locally, through the same pipeline the workers use."""

from __future__ import annotations

import json
import sys

import numpy as np

from shared.preprocess import InvalidInput, load_file, to_mnist


def predict(files: list[str], as_json: bool = False, version: int | None = None) -> int:
    """Print one line per file, in the order given; unreadable files do not stop the rest."""
    from shared.classifier import Classifier, prediction_dict
    from shared.model_store import open_store
    from shared.settings import get_settings

    store = open_store()
    version = version if version is not None else store.ensure_seeded()
    model = Classifier(store.fetch(version, get_settings().model_cache), version=version)

    rows: list[dict] = []
    digits, slots = [], []
    for path in files:
        try:
            digit = to_mnist(load_file(path))
        except InvalidInput as exc:
            rows.append({"file": path, "error": str(exc)})
            continue
        rows.append({"file": path, **prediction_dict(None, version)})
        if digit is not None:
            digits.append(digit)
            slots.append(len(rows) - 1)
    if digits:
        probs = model.predict(np.stack(digits))
        for p, i in zip(probs, slots, strict=True):
            rows[i] = {"file": rows[i]["file"], **prediction_dict(p, version)}
    for row in rows:
        print(json.dumps(row) if as_json else _human(row))
    return 1 if any("error" in r for r in rows) else 0


def _human(row: dict) -> str:
    if "error" in row:
        return f"{row['file']}: error: {row['error']}"
    if row["digit"] is None:
        return f"{row['file']}: empty (nothing drawn)"
    return f"{row['file']}: {row['digit']}  ({max(row['probabilities']):.1%})"


if __name__ == "__main__":
    sys.exit(predict(sys.argv[1:]))
