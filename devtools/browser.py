"""Debian's Chromium driven by Playwright, as the browser tests and the
benchmarks launch it, and the page's JavaScript probes they share."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

CHROMIUM = Path("/usr/bin/chromium")
# Root in a container needs --no-sandbox; without the background-networking
# flag Chromium keeps trying hosts an offline machine cannot reach.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--headless",
    "--disable-gpu",
    "--disable-background-networking",
]

# Finds the explorer's decoded image (the page has other images).
_DIGIT_JS = (
    """const digitImg = () => document.querySelector('canvas.vae-digit[data-z]');"""
)


def with_digit(js: str) -> str:
    """``js`` with its ``DIGIT_IMG_JS`` line replaced by the code of a
    ``digitImg()`` function that finds the explorer's decoded image."""
    return js.replace("DIGIT_IMG_JS", _DIGIT_JS)


def browser_missing_reason() -> str | None:
    """Why Chromium cannot be driven here, or None when it can."""
    if not CHROMIUM.exists():
        return f"Chromium not found at {CHROMIUM} (apt-get install chromium)"
    try:
        import playwright.sync_api  # noqa: F401 - only whether it is installed
    except ImportError:
        return "the playwright package is not installed (pip install playwright)"
    return None


@contextmanager
def chromium() -> Iterator[Any]:
    """Headless Chromium from Playwright's sync API, closed on exit."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM), args=CHROMIUM_ARGS
        )
        try:
            yield browser
        finally:
            browser.close()


async def launch_async(playwright: Any) -> Any:
    """Headless Chromium from Playwright's async API (``playwright`` as
    ``async_playwright()`` gives it)."""
    return await playwright.chromium.launch(
        executable_path=str(CHROMIUM), args=CHROMIUM_ARGS
    )
