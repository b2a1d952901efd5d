"""User-labelled drawings kept for the next retrain: the one format web and trainer share,
who gave each one, and which of them one retrain may use.

The web process writes a record per drawing, already preprocessed exactly as training sees
digits; the trainer reads the newest `limit`. The list is capped so it never grows unbounded.

Feedback is unauthenticated, so one address could flood it with wrong labels (1,000 posts
took 11 s before limits existed). Each record carries `source`, a keyed hash of the
submitting address; `select_feedback` lets no source supply more than a small share of what
one retrain uses. A floor keeps a single honest user (a demo on localhost) able to teach the
model a few dozen drawings.
"""

from __future__ import annotations

import bisect
import hashlib
import hmac
import json
import time
from collections import Counter
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import redis

from shared.redis_keys import FEEDBACK_LIST

MAX_SOURCE_SHARE = 0.10  # no address supplies more than 10% of one retrain's feedback ...
SOURCE_FLOOR = 50  # ... beyond its first 50 drawings, which any address may contribute
UNKNOWN_SOURCE = "unknown"  # records written before sources were recorded count as one
# "That is not a digit" (issue 12): the API's label, and the class a record stores for it
# (the model's 11th output), so a retrain learns it as the "not a digit" class
NOT_A_DIGIT_LABEL = "not a digit"
NOT_A_DIGIT_CLASS = 10


def add_feedback(r: redis.Redis, digit: np.ndarray, label: int, cap: int,
                 source: str = UNKNOWN_SOURCE) -> int:
    """Keep one labelled 28x28 digit (the newest `cap` are kept); returns how many are kept.
    `label` is 0-9, or NOT_A_DIGIT_CLASS for a drawing that is not a digit."""
    record = json.dumps({"label": int(label), "digit": digit.astype(np.uint8).tolist(),
                         "created": time.time(), "source": source})
    pipe = r.pipeline()
    pipe.lpush(FEEDBACK_LIST, record)
    pipe.ltrim(FEEDBACK_LIST, 0, cap - 1)
    pipe.llen(FEEDBACK_LIST)
    return int(pipe.execute()[-1])


def read_feedback(r: redis.Redis, limit: int) -> tuple[np.ndarray, np.ndarray]:
    """The newest drawings for one retrain, as uint8 digits (n, 28, 28) and labels (n,).

    At most `limit`, with no address beyond its fair share (`select_feedback`), so one
    address cannot poison a retrain by flooding feedback.
    """
    rows = r.lrange(FEEDBACK_LIST, 0, -1)
    records = select_feedback([json.loads(row) for row in rows], limit)
    if not records:
        return np.zeros((0, 28, 28), np.uint8), np.zeros(0, np.uint8)
    digits = np.asarray([rec["digit"] for rec in records], dtype=np.uint8)
    labels = np.asarray([rec["label"] for rec in records], dtype=np.uint8)
    return digits, labels


def label_name(label: int) -> int | str:
    """How the API spells a stored label: the digit, or "not a digit"."""
    return NOT_A_DIGIT_LABEL if label == NOT_A_DIGIT_CLASS else int(label)


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
