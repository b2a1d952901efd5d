"""Shadow mode on the page, in real headless Chromium: the admin picks a shadow version in
the admin panel, draws a 7 with the mouse and sees both answers side by side (the shadow is
a real model that answers d+1, so it says 8); the review lists the feedback drawings on which
the two disagree. A tab without the token is refused. Saves var/shadow.png (docs/ copy in the
README)."""

from __future__ import annotations

from pathlib import Path

import pytest
import requests
from playwright import sync_api

from shared.mnist import load_mnist
from tests.utils.browser import open_page
from tests.webapp.conftest import ADMIN_TOKEN, ShadowSystem
from tests.webapp.test_page_browser import DIGITS, PREDICTION_TIMEOUT_MS, draw

pytestmark = pytest.mark.browser
expect = sync_api.expect
VAR = Path(__file__).resolve().parents[2] / "var"


def open_admin(page, token: str) -> None:  # type: ignore[no-untyped-def]
    expect(page.locator("#conn")).to_have_text("connected", timeout=PREDICTION_TIMEOUT_MS)
    page.click("#admin > summary")
    page.fill("#token", token)


def test_both_answers_side_by_side_and_the_review(shadow_system: ShadowSystem, browser,  # type: ignore[no-untyped-def]
                                                  page_errors, mnist_dir) -> None:
    shifted, active = shadow_system.shifted, shadow_system.active
    url = shadow_system.stack.url
    test = load_mnist("test", mnist_dir)
    for img, label in zip(test.images[100:106], test.labels[100:106], strict=True):
        resp = requests.post(f"{url}/api/feedback",
                             json={"pixels": img.tolist(), "label": int(label)}, timeout=10)
        assert resp.status_code == 201, resp.text
    context, page = open_page(browser, url + "/", page_errors,
                              viewport={"width": 1200, "height": 1400})
    try:
        open_admin(page, ADMIN_TOKEN)
        expect(page.locator(f"#shadow-version option[value='{shifted}']")).to_have_count(
            1, timeout=PREDICTION_TIMEOUT_MS)
        expect(page.locator("#shadow-box")).to_be_hidden()
        page.select_option("#shadow-version", str(shifted))
        expect(page.locator("#shadow-status")).to_have_text(
            f"v{shifted} answers your frames beside the active model.",
            timeout=PREDICTION_TIMEOUT_MS)

        draw(page, DIGITS["7"])
        expect(page.locator("#digit")).to_have_text("7", timeout=PREDICTION_TIMEOUT_MS)
        expect(page.locator("#shadow-digit")).to_have_text("8", timeout=PREDICTION_TIMEOUT_MS)
        expect(page.locator("#shadow-box")).to_be_visible()
        expect(page.locator("#shadow-label")).to_have_text(f"shadow v{shifted}")
        expect(page.locator("#active-label")).to_have_text(f"active v{active}")
        main_box = page.locator(".result-top .digit-box").first.bounding_box()
        shadow_box = page.locator("#shadow-box").bounding_box()
        assert main_box and shadow_box and shadow_box["x"] > main_box["x"]  # side by side
        assert abs(shadow_box["y"] - main_box["y"]) < 40

        page.fill("#shadow-last", "6")
        page.click("#shadow-review")
        expect(page.locator("#shadow-review-status")).to_have_text(
            f"v{active} and v{shifted} disagree on 6 of the 6 newest feedback drawings.",
            timeout=60_000)
        expect(page.locator("#shadow-disagreements .disagreement")).to_have_count(6)
        VAR.mkdir(exist_ok=True)
        page.screenshot(path=str(VAR / "shadow.png"), full_page=True)

        page.select_option("#shadow-version", "")
        expect(page.locator("#shadow-status")).to_have_text("No shadow: one model answers.",
                                                            timeout=PREDICTION_TIMEOUT_MS)
        expect(page.locator("#shadow-box")).to_be_hidden()
        assert not page_errors, f"JavaScript errors on the page: {page_errors}"
    finally:
        context.close()


def test_a_tab_without_the_token_is_refused(shadow_system: ShadowSystem, browser,  # type: ignore[no-untyped-def]
                                            page_errors) -> None:
    context, page = open_page(browser, shadow_system.stack.url + "/", page_errors)
    try:
        open_admin(page, "not-the-token")
        option = f"#shadow-version option[value='{shadow_system.shifted}']"
        expect(page.locator(option)).to_have_count(1, timeout=PREDICTION_TIMEOUT_MS)
        page.select_option("#shadow-version", str(shadow_system.shifted))
        expect(page.locator("#shadow-status")).to_contain_text(
            "Refused: shadow mode is for the admin", timeout=PREDICTION_TIMEOUT_MS)
        expect(page.locator("#shadow-version")).to_have_value("")
        expect(page.locator("#shadow-box")).to_be_hidden()
        assert not page_errors, f"JavaScript errors on the page: {page_errors}"
    finally:
        context.close()
