"""The page keeps one live frame in flight (webapp/static/draw/live.js), in real Chromium.

Against a real web server and Redis with *no worker*, nothing is ever answered: the page must
send one frame, hold the rest of the stroke back, and try again only after its in-flight
timeout, instead of a frame every 100 ms. (With a worker, test_page_browser checks that the
final drawing is still the one shown.)
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from typing import Any

import pytest
from playwright import sync_api

from devtools.stack import Stack, start_stack

pytestmark = pytest.mark.browser
IN_FLIGHT_TIMEOUT_S = 2.0  # live.js IN_FLIGHT_TIMEOUT_MS


@pytest.fixture(scope="module")
def no_worker_stack(redis_server, tmp_path_factory) -> Iterator[Stack]:  # type: ignore[no-untyped-def]
    url = redis_server.url.rsplit("/", 1)[0] + "/13"
    running = start_stack(url, tmp_path_factory.mktemp("noworker"), workers=0)
    try:
        running.wait_ready(workers=0)
        yield running
    finally:
        running.close()


def _draw_seq(payload: Any) -> int | None:
    """The seq of a Socket.IO `draw` event frame (`42["draw",{...}]`), else None."""
    if not isinstance(payload, str) or not payload.startswith('42["draw"'):
        return None
    return int(json.loads(payload[2:])[1]["seq"])


def test_a_stroke_sends_one_frame_while_none_is_answered(no_worker_stack, browser,
                                                         page_errors) -> None:  # type: ignore[no-untyped-def]
    context = browser.new_context(viewport={"width": 1200, "height": 860})
    page = context.new_page()
    sent: list[tuple[float, int]] = []

    def watch(ws: Any) -> None:
        ws.on("framesent", lambda payload: (seq := _draw_seq(payload)) is not None
              and sent.append((time.monotonic(), seq)))

    page.on("websocket", watch)
    page.on("pageerror", lambda exc: page_errors.append(str(exc)))
    try:
        page.goto(no_worker_stack.url + "/")
        sync_api.expect(page.locator("#conn")).to_have_text("connected", timeout=10_000)
        box = page.locator("#canvas").bounding_box()
        assert box
        page.mouse.move(box["x"] + 0.3 * box["width"], box["y"] + 0.2 * box["height"])
        page.mouse.down()
        started = time.monotonic()
        for k in range(60):  # a slow stroke: 3 s, a mouse move every 50 ms
            page.mouse.move(box["x"] + (0.3 + 0.006 * k) * box["width"],
                            box["y"] + (0.2 + 0.01 * k) * box["height"])
            page.wait_for_timeout(50)
        page.mouse.up()
        drawn_for = time.monotonic() - started
        page.wait_for_timeout(500)
        # the old page sent a frame every 100 ms: about 30 here
        assert sent, "the page sent no frame at all"
        expected = 1 + int(drawn_for / IN_FLIGHT_TIMEOUT_S)  # the first, then one per timeout
        assert len(sent) <= expected + 1, f"{len(sent)} frames in {drawn_for:.1f}s: {sent}"
        if len(sent) > 1:  # a retry comes only after the timeout, with the newest drawing
            gap = sent[1][0] - sent[0][0]
            assert gap >= IN_FLIGHT_TIMEOUT_S - 0.2 and sent[1][1] > sent[0][1]
        assert not page_errors, page_errors
    finally:
        context.close()
