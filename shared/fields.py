"""The one wording of "unknown field(s)", shared by every place that reads a JSON object."""

from __future__ import annotations

from collections.abc import Iterable


def unknown_fields_error(given: Iterable[object], allowed: Iterable[str]) -> str | None:
    """The error message for fields outside `allowed`, or None when there are none."""
    unknown = set(given) - set(allowed)
    if not unknown:
        return None
    return f"unknown field(s): {', '.join(sorted(map(str, unknown)))}"
