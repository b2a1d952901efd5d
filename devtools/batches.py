"""Following a batch through the REST API to its end (benchmarks and tests)."""

from __future__ import annotations

import time
from typing import Any

import requests


def wait_batch_done(url: str, batch_id: str, poll_s: float = 0.1, timeout: float = 600.0,
                    results: bool = False) -> dict[str, Any]:
    """Poll `GET /api/batches/ID` until the batch is done or failed; its last view (with the
    per-item results only when `results`). Raises TimeoutError after `timeout` s."""
    query = "" if results else "?results=0"
    deadline = time.monotonic() + timeout
    while True:
        view = requests.get(f"{url}/api/batches/{batch_id}{query}", timeout=60).json()
        if view["status"] in ("done", "failed"):
            return view
        if time.monotonic() > deadline:
            raise TimeoutError(f"batch {batch_id} not done after {timeout} s: {view}")
        time.sleep(poll_s)
