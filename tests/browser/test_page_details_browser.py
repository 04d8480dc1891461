"""In Chromium: the preview under the pointer survives a click, and every tool
tab is in sight on a 420 px page."""

from __future__ import annotations

from typing import Any

# As in tests/browser/conftest.py (a test module cannot import a conftest:
# with tests/app collected first, "conftest" names that one).
MAP_DRAWN = ".vae-explorer[data-drawn] .vae-gl-canvas"  # the WebGL map, drawn
DIGIT_IMG = ".vae-z-sliders canvas.vae-digit[data-z]"
LIVE_READY = '.vae-explorer[data-decoder="ready"]'
PAGE_LOAD_TIMEOUT_MS = 120_000
SETTLE_MS = 30_000
TOOL_TABS = 8


def test_the_preview_shows_what_is_under_the_pointer_after_a_click(
    page: Any,
) -> None:
    """After a click on the map, with the pointer still there, the "Under the
    pointer" preview shows a decoded image, not the idle hint."""
    box = page.locator(".vae-gl-area").bounding_box()
    x, y = box["x"] + box["width"] * 0.3, box["y"] + box["height"] * 0.6
    page.mouse.move(x - 5, y)
    page.mouse.move(x, y)
    before = page.eval_on_selector(".vae-explorer", "(el) => el.dataset.z")
    page.mouse.click(x, y)
    page.wait_for_function(
        "(old) => document.querySelector('.vae-explorer').dataset.z !== old",
        arg=before,
        timeout=SETTLE_MS,
    )
    page.wait_for_timeout(500)
    idle = page.eval_on_selector(
        ".vae-live", "(el) => el.classList.contains('vae-idle')"
    )
    label = page.locator('[data-testid="vae-live-z"]').inner_text()
    assert not idle and label != "move over the map", label


def test_every_tool_tab_is_in_sight_on_a_narrow_page(
    browser: Any, server_url: str
) -> None:
    """At 420 px the tool tabs wrap onto more rows: all eight labels lie
    within the page's width."""
    context = browser.new_context(viewport={"width": 420, "height": 900})
    try:
        narrow = context.new_page()
        narrow.goto(server_url)
        for selector in (LIVE_READY, MAP_DRAWN, DIGIT_IMG):
            narrow.wait_for_selector(
                selector, state="attached", timeout=PAGE_LOAD_TIMEOUT_MS
            )
        tabs = narrow.locator('[data-testid="stTabs"] [role="tab"]')
        tabs.first.scroll_into_view_if_needed()
        boxes = [tabs.nth(i).bounding_box() for i in range(tabs.count())]
        assert len(boxes) == TOOL_TABS
        assert all(b and b["x"] >= 0 and b["x"] + b["width"] <= 420 for b in boxes)
    finally:
        context.close()
