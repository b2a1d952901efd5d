"""The one wording of "unknown field(s)", shared by every place that reads a JSON object."""

from __future__ import annotations

from collections.abc import Iterable


def unknown_fields_error(given: Iterable[object], allowed: Iterable[str]) -> str | None:
    """The error message for fields outside `allowed`, or None when there are none."""
    unknown = set(given) - set(allowed)
    if not unknown:
        return None
    names = ", ".join(sorted(str(name)[:40] for name in unknown))  # a name may be 100 KB long
    return f"unknown field(s): {names[:300]}"
