"""Headless Debian Chromium driven by Playwright (never a downloaded browser)."""

from __future__ import annotations

from typing import Any

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]


def open_page(browser: Any, url: str, page_errors: list[str], **context_args: Any) -> tuple:
    """A new context and page at `url`, with JavaScript errors collected in `page_errors`."""
    context = browser.new_context(**context_args)
    page = context.new_page()
    page.on("pageerror", lambda exc: page_errors.append(f"{url}: {exc}"))
    page.goto(url)
    return context, page
