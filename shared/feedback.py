"""Who gave a feedback drawing, and which drawings one retrain may use.

Feedback is unauthenticated, so one address could flood it with wrong labels (1,000 posts
took 11 s before limits existed). The web process records a keyed hash of the submitting
address in each record (`source`); the trainer picks its feedback with `select_feedback`,
which lets no source supply more than a small share of what one retrain uses. A floor keeps
a single honest user (a demo on localhost) able to teach the model a few dozen drawings.
"""

from __future__ import annotations

import bisect
import hashlib
import hmac
from collections import Counter
from collections.abc import Mapping, Sequence
from typing import Any

MAX_SOURCE_SHARE = 0.10  # no address supplies more than 10% of one retrain's feedback ...
SOURCE_FLOOR = 50  # ... beyond its first 50 drawings, which any address may contribute
UNKNOWN_SOURCE = "unknown"  # records written before sources were recorded count as one


def source_id(address: str, key: str) -> str:
    """A keyed hash of a client address: stable per address, not reversible without `key`
    (a plain hash of an IPv4 address is reversed by trying all 2**32)."""
    digest = hmac.new(key.encode("utf-8", "replace"), address.encode("utf-8", "replace"),
                      hashlib.sha256)
    return digest.hexdigest()[:16]


def per_source_cap(counts: Sequence[int], limit: int, max_share: float = MAX_SOURCE_SHARE,
                   floor: int = SOURCE_FLOOR) -> int:
    """The most drawings one source may give: the largest `c` with `c <= max_share * used(c)`,
    where used(c) is how many drawings are used when every source is cut to `c`; never below
    `floor`."""
    ordered = sorted(counts)
    prefix = [0]
    for n in ordered:
        prefix.append(prefix[-1] + n)
    for cap in range(ordered[-1] if ordered else 0, floor, -1):
        below = bisect.bisect_left(ordered, cap)  # sources with fewer than `cap` drawings
        used = prefix[below] + cap * (len(ordered) - below)
        if cap <= max_share * min(limit, used):
            return cap
    return floor


def select_feedback(records: Sequence[Mapping[str, Any]], limit: int,
                    max_share: float = MAX_SOURCE_SHARE,
                    floor: int = SOURCE_FLOOR) -> list[Mapping[str, Any]]:
    """Up to `limit` records, newest first as given, with each source cut to its fair cap."""
    def source(record: Mapping[str, Any]) -> str:
        value = record.get("source")
        return value if isinstance(value, str) and value else UNKNOWN_SOURCE

    cap = per_source_cap(list(Counter(map(source, records)).values()), limit, max_share, floor)
    taken: Counter[str] = Counter()
    chosen: list[Mapping[str, Any]] = []
    for record in records:
        if len(chosen) >= limit:
            break
        who = source(record)
        if taken[who] < cap:
            taken[who] += 1
            chosen.append(record)
    return chosen
