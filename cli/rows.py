"""How the CLI prints one file's answer: a JSON line, or one human-readable line."""

from __future__ import annotations

import json
from typing import Any


def format_row(row: dict[str, Any], as_json: bool = False) -> str:
    """`{"file": ..., ...prediction}` or `{"file": ..., "error": ...}` as one line."""
    if as_json:
        return json.dumps(row)
    if "error" in row:
        return f"{row['file']}: error: {row['error']}"
    if "number" in row:
        return format_number_row(row)
    if row.get("digit") is None:
        return f"{row['file']}: empty (nothing drawn)"
    if row.get("rejected"):  # "not a digit" / "ambiguous" (issue 12), with the best guess
        return (f"{row['file']}: {row['rejected']}  (best guess {row['digit']}, "
                f"{row['confidence']:.1%})")
    shown = row.get("confidence", max(row["probabilities"]))
    return f"{row['file']}: {row['digit']}  ({shown:.1%})"


def format_number_row(row: dict[str, Any]) -> str:
    """A number's line: the number, then each digit's top probability."""
    if not row["digits"]:
        return f"{row['file']}: empty (nothing drawn)"
    sure = " ".join(f"{d['digit']}:{max(d['probabilities']):.0%}" for d in row["digits"])
    return f"{row['file']}: {row['number']}  ({sure})"
