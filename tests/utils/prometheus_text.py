"""Reading a Prometheus text scrape the way Prometheus does (prometheus_client's parser)."""

from __future__ import annotations

from prometheus_client.parser import text_string_to_metric_families


def sample_names(body: str) -> set[str]:
    """Every sample name, plus `name{queue|kind="v"}` for the labels the SERIES lists name."""
    names = set()
    for family in text_string_to_metric_families(body):
        for s in family.samples:
            names.add(s.name)
            names |= {f'{s.name}{{{k}="{v}"}}' for k, v in s.labels.items()
                      if k in ("queue", "kind")}
    return names
