"""The largest accepted image costs a bounded amount of memory in every process it crosses.

Real redis-server, real Celery worker, real web server; the peak RSS of the web and worker
processes is read from the kernel around one request (devtools/memory.py).
"""

from __future__ import annotations

import pytest
import requests

from devtools.memory import PeakRss
from tests.utils.images import data_url, draw_strokes, encode, rgba_on_transparent

pytestmark = pytest.mark.integration

MEMORY_BOUND_MB = 50.0  # issue 8: any accepted image costs at most ~50 MB per process


def largest_png() -> str:
    """A 4096x4096 RGBA PNG (the maximum side) of a 7 on transparency: ~70 KB, 64 MB of pixels."""
    ink = draw_strokes((4096, 4096), (900, 600, 3200, 3600))
    return data_url(encode(rgba_on_transparent(ink), optimize=True))


def test_a_4096_png_stays_within_the_memory_bound(stack) -> None:  # type: ignore[no-untyped-def]
    small = data_url(encode(draw_strokes((280, 280), (60, 40, 220, 240))))
    image = largest_png()
    for _ in range(2):  # warm up both processes' allocators and imports on the same path
        assert requests.post(f"{stack.url}/api/predict", json={"image": small},
                             timeout=60).status_code == 200
    web, worker = PeakRss(stack.web.pid), PeakRss(stack.workers[0].pid)
    web.start()
    worker.start()
    resp = requests.post(f"{stack.url}/api/predict", json={"image": image}, timeout=120)
    assert resp.status_code == 200, resp.text
    assert resp.json()["digit"] == 7
    growth = {"web": web.growth_mb(), "worker": worker.growth_mb()}
    assert all(g <= MEMORY_BOUND_MB for g in growth.values()), growth
    print(f"peak RSS growth for one 4096x4096 PNG: {growth}")
