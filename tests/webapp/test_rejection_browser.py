"""The page's "not a digit" and its saliency overlay, in real headless Chromium.

Draws a hash sign (#) with the mouse and reads "not a digit" where the digit would be; then
turns "show what it looked at" on, draws a 7 and checks the preview is tinted red. Saves
var/rejection.png and var/explain.png (copied to docs/ for the README).
"""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright import sync_api

from tests.utils.browser import open_page
from tests.webapp.test_page_browser import DIGITS, PREDICTION_TIMEOUT_MS, draw

pytestmark = pytest.mark.browser
expect = sync_api.expect
VAR = Path(__file__).resolve().parents[2] / "var"
HASH = [[(0.38, 0.15), (0.33, 0.85)], [(0.65, 0.15), (0.60, 0.85)],
        [(0.15, 0.38), (0.85, 0.38)], [(0.15, 0.65), (0.85, 0.65)]]
RED_PIXELS = """() => {
    const d = document.querySelector('#preview').getContext('2d').getImageData(0, 0, 28, 28).data;
    let n = 0; for (let i = 0; i < d.length; i += 4) if (d[i] > 150 && d[i + 1] < 120) n++;
    return n;
}"""


def settled(page) -> None:  # type: ignore[no-untyped-def]
    """Wait until the shown answer is the one for the last frame sent."""
    page.wait_for_function("() => window.digitflow.shownSeq === window.digitflow.lastSeq",
                           timeout=PREDICTION_TIMEOUT_MS)


def test_a_hash_sign_is_not_a_digit_and_saliency_is_painted(stack, browser, page_errors):  # type: ignore[no-untyped-def]
    context, page = open_page(browser, stack.url + "/", page_errors,
                              viewport={"width": 1200, "height": 860})
    try:
        expect(page.locator("#conn")).to_have_text("connected", timeout=PREDICTION_TIMEOUT_MS)
        draw(page, HASH)
        expect(page.locator("#digit")).to_have_text("not a digit",
                                                    timeout=PREDICTION_TIMEOUT_MS)
        settled(page)
        expect(page.locator("#digit")).to_have_text("not a digit")
        VAR.mkdir(exist_ok=True)
        page.screenshot(path=str(VAR / "rejection.png"), full_page=True)
        assert page.evaluate(RED_PIXELS) == 0  # no overlay unless asked for

        page.click("#clear")
        page.check("#explain")
        draw(page, DIGITS["7"])
        expect(page.locator("#digit")).to_have_text("7", timeout=PREDICTION_TIMEOUT_MS)
        settled(page)
        page.wait_for_function(f"() => ({RED_PIXELS})() > 5", timeout=PREDICTION_TIMEOUT_MS)
        page.screenshot(path=str(VAR / "explain.png"), full_page=True)
        assert not page_errors, f"JavaScript errors on the page: {page_errors}"
    finally:
        context.close()
