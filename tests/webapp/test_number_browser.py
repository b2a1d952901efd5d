"""Number mode and undo in real headless Chromium against the fully running system.

Writes "2026" with real mouse strokes on the wide number canvas and reads "2026" on the page,
each digit with its 28x28 crop; undoes strokes with the button and with Ctrl-Z, in both
modes, and checks the prediction follows. Saves var/number-screenshot.png (copied to
docs/number.png for the README). Needs Debian's /usr/bin/chromium (never `playwright install`).
"""

from __future__ import annotations

import math
from pathlib import Path

import pytest
from playwright import sync_api

from tests.utils.browser import open_page
from tests.webapp.test_page_browser import DIGITS, draw

pytestmark = pytest.mark.browser
expect = sync_api.expect

REPO = Path(__file__).resolve().parents[2]
SCREENSHOT = REPO / "var" / "number-screenshot.png"  # tests never write tracked files
TIMEOUT_MS = 15_000


def _ellipse(cx: float, cy: float, rx: float, ry: float, n: int = 40) -> list[tuple]:
    return [(cx + rx * math.sin(-2 * math.pi * k / n), cy - ry * math.cos(2 * math.pi * k / n))
            for k in range(n + 3)]


# digits in a unit box (u right, v down), as people write them, one stroke each
UNIT = {
    "2": [[(0.1, 0.25), (0.3, 0.05), (0.7, 0.05), (0.9, 0.25), (0.85, 0.45), (0.1, 1.0),
           (0.95, 1.0)]],
    "0": [_ellipse(0.5, 0.5, 0.45, 0.48)],
    "6": [[(0.8, 0.05), (0.4, 0.3), (0.15, 0.65), (0.2, 0.9), (0.5, 1.0), (0.8, 0.9),
           (0.85, 0.7), (0.6, 0.55), (0.3, 0.6), (0.15, 0.75)]],
}
HEIGHT = 0.6  # of the canvas height
WIDTH = HEIGHT / 4 * 0.65  # of the canvas width (the canvas is 4:1; digits 0.65 as wide as high)


def number_strokes(text: str, start: float = 0.12, step: float = 0.2) -> list[list[tuple]]:
    """`text` written left to right across the wide canvas (canvas-relative units)."""
    strokes = []
    for i, ch in enumerate(text):
        x0 = start + i * step
        for stroke in UNIT[ch]:
            strokes.append([(x0 + u * WIDTH, 0.2 + v * HEIGHT) for u, v in stroke])
    return strokes


def settled(page) -> None:  # type: ignore[no-untyped-def]
    """Wait until the shown answer is the one for the last frame sent."""
    page.wait_for_function("() => window.digitflow.shownSeq === window.digitflow.lastSeq",
                           timeout=TIMEOUT_MS)


def ink_count(page) -> int:  # type: ignore[no-untyped-def]
    return page.evaluate("""() => {
        const c = document.querySelector('#canvas');
        const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
        let n = 0; for (let i = 0; i < d.length; i += 4) if (d[i] > 128) n++;
        return n;
    }""")


def test_write_2026_in_number_mode(stack, browser, page_errors) -> None:  # type: ignore[no-untyped-def]
    context, page = open_page(browser, stack.url + "/", page_errors,
                              viewport={"width": 1200, "height": 900})
    try:
        expect(page.locator("#conn")).to_have_text("connected", timeout=TIMEOUT_MS)
        page.click("#mode-number")
        expect(page.locator("#mode-number")).to_have_attribute("aria-pressed", "true")
        box = page.locator("#canvas").bounding_box()
        assert box and box["width"] > 3.5 * box["height"], box
        draw(page, number_strokes("2026"))
        expect(page.locator("#number")).to_have_text("2026", timeout=TIMEOUT_MS)
        settled(page)
        expect(page.locator("#number")).to_have_text("2026")
        cards = page.locator("#number-digits .num-digit")
        expect(cards).to_have_count(4)
        expect(cards.locator(".num-d")).to_have_text(["2", "0", "2", "6"])
        inked = page.evaluate("""() => [...document.querySelectorAll('#number-digits canvas')]
            .map((c) => { const d = c.getContext('2d').getImageData(0, 0, 28, 28).data;
                          let n = 0; for (let i = 0; i < d.length; i += 4) if (d[i] > 128) n++;
                          return n; })""")
        assert all(n > 10 for n in inked), f"a digit's 28x28 crop looks empty: {inked}"
        expect(page.locator("#digit")).to_be_hidden()  # the single-digit answer is not shown
        SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SCREENSHOT), full_page=True)

        # undo the 6 (its one stroke) with the button: the page predicts again, "202"
        sent = page.evaluate("window.digitflow.lastSeq")
        page.click("#undo")
        expect(page.locator("#number")).to_have_text("202", timeout=TIMEOUT_MS)
        settled(page)
        assert page.evaluate("window.digitflow.lastSeq") > sent
        assert page.evaluate("window.digitflow.strokes") == 3

        # back to one digit: the square canvas and the single-digit answer, as before
        page.click("#mode-digit")
        box = page.locator("#canvas").bounding_box()
        assert box and abs(box["width"] - box["height"]) < 2, box
        expect(page.locator("#digit")).to_have_text("—")
        expect(page.locator("#number-result")).to_be_hidden()
        assert not page_errors, f"JavaScript errors on the page: {page_errors}"
    finally:
        context.close()


def test_undo_a_stroke_and_the_prediction_follows(stack, browser, page_errors) -> None:  # type: ignore[no-untyped-def]
    context, page = open_page(browser, stack.url + "/", page_errors,
                              viewport={"width": 1200, "height": 860})
    try:
        expect(page.locator("#conn")).to_have_text("connected", timeout=TIMEOUT_MS)
        draw(page, DIGITS["1"])
        expect(page.locator("#digit")).to_have_text("1", timeout=TIMEOUT_MS)
        settled(page)
        one_stroke_ink = ink_count(page)
        draw(page, [_ellipse(0.5, 0.5, 0.3, 0.36)])  # a ring around the 1
        settled(page)
        expect(page.locator("#digit")).not_to_have_text("1")
        assert page.evaluate("window.digitflow.strokes") == 2

        sent = page.evaluate("window.digitflow.lastSeq")
        page.keyboard.press("Control+z")
        expect(page.locator("#digit")).to_have_text("1", timeout=TIMEOUT_MS)
        settled(page)
        assert page.evaluate("window.digitflow.lastSeq") > sent  # predicted again
        assert page.evaluate("window.digitflow.strokes") == 1
        assert abs(ink_count(page) - one_stroke_ink) <= one_stroke_ink * 0.02  # redrawn

        page.keyboard.press("Meta+z")  # Cmd-Z: the last stroke goes, the page is empty
        expect(page.locator("#digit")).to_have_text("—")
        assert page.evaluate("window.digitflow.strokes") == 0 and ink_count(page) == 0
        page.click("#undo")  # nothing left to undo: no error, nothing sent
        expect(page.locator("#digit")).to_have_text("—")
        assert not page_errors, f"JavaScript errors on the page: {page_errors}"
    finally:
        context.close()
