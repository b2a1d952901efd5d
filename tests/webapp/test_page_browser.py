"""The drawing page in real headless Chromium against the fully running system.

Draws 1, 0 and 7 with real mouse strokes, waits for the live prediction of each, saves
var/screenshot.png showing the "7" (copied to docs/ for the README), and checks the page
at phone width.

Needs the Debian Chromium at /usr/bin/chromium (`apt-get install -y chromium`); never
`playwright install`. The `stack` fixture (tests/conftest.py) provides `stack.url`.
"""

from __future__ import annotations

import math
import re
from pathlib import Path

import pytest
from playwright import sync_api

from tests.utils.browser import open_page

pytestmark = pytest.mark.browser
expect = sync_api.expect

REPO = Path(__file__).resolve().parents[2]
# tests never write tracked files; `cp var/screenshot.png docs/` refreshes the README image
SCREENSHOT = REPO / "var" / "screenshot.png"
PREDICTION_TIMEOUT_MS = 10_000
HAS_NUMBER = re.compile(r"\d+")


# ------------------------------------------------------------------ strokes
# Each digit is a list of strokes; each stroke a list of points in canvas-relative units
# (0..1 across the canvas). Shapes are drawn the way people draw MNIST digits.
def _ellipse(cx, cy, rx, ry, n=48):
    # Start at the top and go anticlockwise, overshooting a little to close the loop.
    return [
        (cx + rx * math.sin(-2 * math.pi * k / n), cy - ry * math.cos(2 * math.pi * k / n))
        for k in range(n + 3)
    ]


DIGITS = {
    "1": [[(0.52, 0.15), (0.50, 0.50), (0.48, 0.85)]],
    "0": [_ellipse(0.5, 0.5, 0.22, 0.33)],
    "7": [[(0.25, 0.20), (0.75, 0.20), (0.62, 0.45), (0.45, 0.85)]],
}


def draw(page, strokes):
    """Draw strokes on #canvas with real mouse events (many intermediate moves)."""
    canvas = page.locator("#canvas")
    canvas.scroll_into_view_if_needed()
    box = canvas.bounding_box()
    assert box, "#canvas is not rendered"

    def at(pt):
        return box["x"] + pt[0] * box["width"], box["y"] + pt[1] * box["height"]

    for stroke in strokes:
        x0, y0 = at(stroke[0])
        page.mouse.move(x0, y0)
        page.mouse.down()
        for pt in stroke[1:]:
            # About one mouse move per 4 CSS px, so the page sees a continuous stroke.
            x1, y1 = at(pt)
            page.mouse.move(x1, y1, steps=max(4, int(math.hypot(x1 - x0, y1 - y0) / 4)))
            x0, y0 = x1, y1
        page.mouse.up()


# ------------------------------------------------------------------ fixtures


# ------------------------------------------------------------------ tests
def test_draw_digits_get_live_predictions(stack, browser, page_errors):
    context, page = open_page(
        browser, stack.url + "/", page_errors, viewport={"width": 1200, "height": 860}
    )
    try:
        expect(page.locator("#conn")).to_have_text("connected", timeout=PREDICTION_TIMEOUT_MS)
        # hello sets the version; it must be a model number (e.g. "v3").
        expect(page.locator("#version")).to_have_text(HAS_NUMBER, timeout=PREDICTION_TIMEOUT_MS)
        expect(page.locator("#digit")).to_have_text("—")
        expect(page.locator("#bars .bar-row")).to_have_count(10)

        for i, digit in enumerate(["1", "0", "7"]):
            if i:
                page.click("#clear")
                expect(page.locator("#digit")).to_have_text("—")
            draw(page, DIGITS[digit])
            expect(page.locator("#digit")).to_have_text(digit, timeout=PREDICTION_TIMEOUT_MS)
            # The shown prediction is the one for the last frame sent (end of stroke),
            # once any in-flight replies have arrived.
            page.wait_for_function(
                "window.digitflow.shownSeq === window.digitflow.lastSeq",
                timeout=PREDICTION_TIMEOUT_MS,
            )
            expect(page.locator("#digit")).to_have_text(digit)
            expect(page.locator(f"#bars .bar-row.top[data-digit='{digit}']")).to_have_count(1)

        # The 28x28 preview shows what the model saw: it must contain some ink.
        ink = page.evaluate(
            """() => {
                const d = document.querySelector('#preview').getContext('2d')
                    .getImageData(0, 0, 28, 28).data;
                let n = 0; for (let i = 0; i < d.length; i += 4) if (d[i] > 128) n++;
                return n;
            }"""
        )
        assert ink > 10, f"image28 preview looks empty ({ink} bright pixels)"
        expect(page.locator("#version")).to_have_text(HAS_NUMBER)
        expect(page.locator("#conn")).to_have_text("connected")

        SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SCREENSHOT), full_page=True)
        assert SCREENSHOT.stat().st_size > 10_000

        # Clearing returns to the empty state and stale replies don't bring the 7 back.
        page.click("#clear")
        expect(page.locator("#digit")).to_have_text("—")
        page.wait_for_timeout(500)
        expect(page.locator("#digit")).to_have_text("—")
        assert not page_errors, f"JavaScript errors on the page: {page_errors}"
    finally:
        context.close()


def test_phone_viewport_canvas_fully_visible(stack, browser, page_errors):
    context, page = open_page(
        browser,
        stack.url + "/",
        page_errors,
        viewport={"width": 375, "height": 740},
        device_scale_factor=2,
        is_mobile=True,
        has_touch=True,
    )
    try:
        expect(page.locator("#conn")).to_have_text("connected", timeout=PREDICTION_TIMEOUT_MS)
        box = page.locator("#canvas").bounding_box()
        assert box is not None
        assert box["x"] >= 0 and box["x"] + box["width"] <= 375, box
        assert box["y"] >= 0 and box["y"] + box["height"] <= 740, box
        assert box["width"] >= 200, f"canvas too small to draw on at phone width: {box}"
        overflow = page.evaluate(
            "() => document.documentElement.scrollWidth - document.documentElement.clientWidth"
        )
        assert overflow <= 0, f"page scrolls horizontally by {overflow}px at 375px width"
        assert page.locator("#canvas").evaluate("c => getComputedStyle(c).touchAction") == "none"
        assert not page_errors, f"JavaScript errors on the page: {page_errors}"
    finally:
        context.close()


def test_admin_panel_and_feedback_buttons(stack, browser, page_errors):
    """The page's other modules: feedback, admin token, retrain, chart and the models table."""
    context, page = open_page(browser, stack.url + "/", page_errors,
                              viewport={"width": 1200, "height": 860})
    try:
        expect(page.locator("#conn")).to_have_text("connected", timeout=PREDICTION_TIMEOUT_MS)
        page.click("#feedback-buttons button >> text='3'")
        expect(page.locator("#feedback-status")).to_have_text("Draw a digit first.")

        page.click("#admin summary")
        active = page.locator("#models tbody .badge-active")
        expect(active).to_have_count(1, timeout=PREDICTION_TIMEOUT_MS)
        version = page.locator("#version").inner_text()
        active_row = page.locator("#models tbody tr", has=page.locator(".badge-active"))
        expect(active_row).to_contain_text(version)

        page.fill("#token", "not-the-token")
        page.click("#retrain")
        expect(page.locator("#train-status")).to_have_text(
            "Rejected: bad or missing admin token.", timeout=PREDICTION_TIMEOUT_MS)
        assert page.evaluate("localStorage.getItem('digitflow.token')") == "not-the-token"
        assert not page_errors, f"JavaScript errors on the page: {page_errors}"
    finally:
        context.close()
