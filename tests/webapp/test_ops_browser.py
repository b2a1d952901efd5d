"""The operator's view in the admin panel, in real headless Chromium against the running
system: the live worker, a queue's depth and the live answer latency appear once the admin
token is pasted, and refresh by themselves.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import redis
from playwright import sync_api

from devtools.sio import RecordingClient
from shared.celery_app import TRAINING_QUEUE, make_celery
from shared.queue_depth import priority_keys
from shared.settings import Settings
from tests.utils.browser import open_page

pytestmark = pytest.mark.browser
expect = sync_api.expect
TIMEOUT_MS = 20_000
REPO = Path(__file__).resolve().parents[2]
SCREENSHOT = REPO / "var" / "ops.png"  # `cp var/ops.png docs/` refreshes the README image


def test_operator_view_shows_workers_queues_and_latency(stack, browser, page_errors):  # type: ignore[no-untyped-def]
    drawer = RecordingClient(stack.url)
    one = [[255 if 12 <= x < 16 and 4 <= y < 24 else 0 for x in range(28)] for y in range(28)]
    for seq in range(1, 6):
        drawer.draw(one, seq)
        drawer.wait_for("prediction", lambda d, s=seq: d["seq"] == s)
    drawer.close()
    # two messages wait in the training queue (no trainer runs here): a depth to show
    celery = make_celery(Settings(redis_url=stack.redis_url))
    for _ in range(2):
        celery.send_task("digitflow.test.waiting", queue=TRAINING_QUEUE)
    r = redis.Redis.from_url(stack.redis_url)
    context, page = open_page(browser, stack.url + "/", page_errors,
                              viewport={"width": 1200, "height": 1400})
    try:
        page.click("#admin summary")
        expect(page.locator("#ops-status")).to_contain_text("admin token", timeout=TIMEOUT_MS)
        page.fill("#token", stack.env["ADMIN_TOKEN"])
        workers = page.locator("#ops-workers tbody")
        expect(workers).to_contain_text("w1@test", timeout=TIMEOUT_MS)
        expect(workers).to_contain_text(re.compile(r"v\d+"))
        expect(workers).to_contain_text(re.compile(r"\d+(\.\d)? s ago"))
        expect(page.locator("#ops-queues")).to_contain_text("training 2")
        expect(page.locator("#ops-queues")).to_contain_text(re.compile(r"live \d+"))
        expect(page.locator("#ops-latency-text")).to_contain_text(re.compile(r"p99 [\d.]+ ms"))
        # the chart has drawn its two lines: some pixels in the p99 colour
        orange = page.evaluate("""() => {
            const c = document.querySelector('#ops-latency');
            const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
            let n = 0;
            for (let i = 0; i < d.length; i += 4) if (d[i] > 200 && d[i + 2] < 60) n++;
            return n; }""")
        assert orange > 10, "the latency chart drew no p99 line"
        # it refreshes by itself: the queue empties and the view follows
        for key in priority_keys(TRAINING_QUEUE):
            r.delete(key)
        expect(page.locator("#ops-queues")).to_contain_text("training 0", timeout=TIMEOUT_MS)
        SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
        page.locator("#ops").screenshot(path=str(SCREENSHOT))
        assert not page_errors, f"JavaScript errors on the page: {page_errors}"
    finally:
        for key in priority_keys(TRAINING_QUEUE):
            r.delete(key)
        context.close()
