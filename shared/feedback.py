"""User-labelled drawings kept for the next retrain: the one format web and trainer share.

The web process writes a record per drawing, already preprocessed exactly as training sees
digits; the trainer reads the newest `limit`. The list is capped so it never grows unbounded.
"""

from __future__ import annotations

import json
import time

import numpy as np
import redis

from shared.redis_keys import FEEDBACK_LIST


def add_feedback(r: redis.Redis, digit: np.ndarray, label: int, cap: int) -> int:
    """Keep one labelled 28x28 digit (the newest `cap` are kept); returns how many are kept."""
    record = json.dumps({"label": int(label), "digit": digit.astype(np.uint8).tolist(),
                         "created": time.time()})
    pipe = r.pipeline()
    pipe.lpush(FEEDBACK_LIST, record)
    pipe.ltrim(FEEDBACK_LIST, 0, cap - 1)
    pipe.llen(FEEDBACK_LIST)
    return int(pipe.execute()[-1])


def read_feedback(r: redis.Redis, limit: int) -> tuple[np.ndarray, np.ndarray]:
    """The newest `limit` drawings as uint8 digits (n, 28, 28) and their labels (n,)."""
    rows = r.lrange(FEEDBACK_LIST, 0, limit - 1)
    if not rows:
        return np.zeros((0, 28, 28), np.uint8), np.zeros(0, np.uint8)
    records = [json.loads(row) for row in rows]
    digits = np.asarray([rec["digit"] for rec in records], dtype=np.uint8)
    labels = np.asarray([rec["label"] for rec in records], dtype=np.uint8)
    return digits, labels
