"""Browser test: the z sliders redraw the selected image in the browser while
they move, and tell the server z once, when the moves settle."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest

if not Path("/usr/bin/chromium").exists():
    pytest.skip("Chromium not found at /usr/bin/chromium", allow_module_level=True)
pytest.importorskip(
    "playwright.sync_api", reason="the playwright package is not installed"
)

from page_selectors import (  # noqa: E402
    DIGIT_IMG,
    MAP_DRAWN,
    PAGE_LOAD_TIMEOUT_MS,
    VIEWPORT,
)

from vaeapp.store.listing import best_pretrained  # noqa: E402
from vaeapp.store.reading import load_model  # noqa: E402
from vaeapp.web.assets import as_browser_decodes  # noqa: E402

SLIDER = '.vae-z-slider input[type="range"][aria-label="{}"]'
BROWSER_DRAWN = '.vae-z-sliders canvas.vae-digit[data-by="browser"]'
SETTLE_MS = 30_000
STEP_PAUSE_MS = 300  # between the drag's moves: longer than a key's 250 ms settling

_JS_CANVAS = """() => {
  const c = document.querySelector('canvas.vae-digit');
  const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
  return {z: c.dataset.z, by: c.dataset.by, w: c.width, h: c.height,
          pixels: Array.from(d)};
}"""
# The canvas's z and drawer, and the map marker's z.
_JS_DRAWN = """() => {
  const c = document.querySelector('canvas.vae-digit');
  return {z: c.dataset.z, by: c.dataset.by,
          marker: document.querySelector('.vae-explorer').dataset.z};
}"""
# The z of the explorer map's latest render from the server.
_JS_SERVER_Z = """() => {
  const root = document.querySelector('.vae-explorer');
  return root ? root.parentElement.__latest.z : null;
}"""


@pytest.fixture(scope="module")
def watched(browser: Any, server_url: str) -> Iterator[tuple[Any, list[int]]]:
    """A fresh page and the sizes of the websocket messages it sends, from
    the start (a listener added later would not see the socket)."""
    context = browser.new_context(viewport=VIEWPORT)
    page = context.new_page()
    page.errors = []
    page.on("pageerror", lambda error: page.errors.append(str(error)))
    sent: list[Any] = []
    page.on(
        "websocket",
        lambda socket: socket.on("framesent", lambda f: sent.append(f)),
    )
    page.goto(server_url, timeout=PAGE_LOAD_TIMEOUT_MS)
    for selector in (MAP_DRAWN, DIGIT_IMG, BROWSER_DRAWN):
        page.wait_for_selector(selector, state="attached", timeout=PAGE_LOAD_TIMEOUT_MS)
    try:
        yield page, sent
    finally:
        context.close()


def _z(text: str) -> np.ndarray:
    return np.array([float(v) for v in text.split(",")], np.float32)


def _server_z(page: Any) -> np.ndarray:
    return np.asarray(page.evaluate(_JS_SERVER_Z), np.float32)


def _settled(page: Any, z: np.ndarray) -> None:
    """Wait until the server's render carries ``z``."""
    page.wait_for_function(
        "(z) => { const s = ("
        + _JS_SERVER_Z
        + ")(); return !!s && s.every((v, i) => Math.abs(v - z[i]) < 1e-4); }",
        arg=z.tolist(),
        timeout=SETTLE_MS,
    )


def _check_pixels(shot: dict, decoder: Any) -> None:
    """The canvas holds the float16 decoder's image of its z, to within
    one step of 255 (the canvas rounds; NumPy is float32)."""
    z = _z(shot["z"])
    expected = np.clip(decoder.decode(z[None])[0] * 255.0, 0, 255)
    rgba = np.asarray(shot["pixels"], np.float64).reshape(shot["h"], shot["w"], 4)
    grey = rgba[:, :, 0].ravel()
    assert np.abs(grey - expected).max() <= 1.0


def test_a_drag_redraws_in_the_browser_and_tells_the_server_once(
    watched: tuple[Any, list[int]],
) -> None:
    """Dragging z1 draws new images and moves the map's marker with no
    websocket message; once it settles, one message, and the server's views
    take the new z."""
    page, sent = watched
    decoder = as_browser_decodes(load_model(best_pretrained()).vae)
    slider = page.locator(SLIDER.format("z1"))
    slider.scroll_into_view_if_needed()
    box = slider.bounding_box()
    y = box["y"] + box["height"] / 2
    page.mouse.move(box["x"] + box["width"] / 2, y)
    page.mouse.down()
    before = len(sent)
    seen = []
    for k in range(1, 9):
        page.mouse.move(box["x"] + box["width"] * (0.5 + 0.04 * k), y)
        page.wait_for_timeout(STEP_PAUSE_MS)
        shot = page.evaluate(_JS_DRAWN)
        assert shot["by"] == "browser"
        seen.append(shot["z"])
        np.testing.assert_allclose(_z(shot["marker"]), _z(shot["z"]), atol=1e-3)
    during = len(sent) - before
    shot = page.evaluate(_JS_CANVAS)
    page.mouse.up()
    assert during == 0, f"{during} websocket messages during the drag"
    assert len(set(seen)) >= 6, seen
    _check_pixels(shot, decoder)
    final = _z(shot["z"])
    _settled(page, final)
    page.wait_for_timeout(500)  # any later message would be counted
    assert len(sent) - before == 1
    np.testing.assert_allclose(_server_z(page), final, atol=1e-4)
    assert page.errors == []


def test_arrow_keys_draw_at_once_and_send_once_settled(
    watched: tuple[Any, list[int]],
) -> None:
    """Five quick arrow presses on a focused slider draw five images, and the
    server hears one z, the last."""
    page, sent = watched
    decoder = as_browser_decodes(load_model(best_pretrained()).vae)
    slider = page.locator(SLIDER.format("z2"))
    slider.focus()
    key = "ArrowRight" if float(slider.input_value()) < 0 else "ArrowLeft"
    start = float(slider.input_value())
    before = len(sent)
    seen = []
    for _ in range(5):
        page.keyboard.press(key)
        seen.append(page.evaluate(_JS_DRAWN)["z"])
    assert len(sent) == before
    assert len(set(seen)) == 5
    shot = page.evaluate(_JS_CANVAS)
    _check_pixels(shot, decoder)
    target = start + (0.05 if key == "ArrowRight" else -0.05)
    assert _z(shot["z"])[1] == pytest.approx(target, abs=1e-6)
    _settled(page, _z(shot["z"]))
    page.wait_for_timeout(500)
    assert len(sent) - before == 1
    assert page.errors == []


_JS_MAP_POINT = """([x, y]) => {
  const map = document.querySelector('.vae-map');
  const [x0, x1, y0, y1] = map.dataset.view.split(',').map(Number);
  const box = map.querySelector('.vae-gl-area').getBoundingClientRect();
  return [box.left + (x - x0) / (x1 - x0) * box.width,
          box.top + (y1 - y) / (y1 - y0) * box.height];
}"""


def _still_point_of(page: Any, target: list[float]) -> list[float]:
    """The page position of map point ``target`` once the layout holds still
    (a late render above the map, slow on a loaded machine, moves it)."""
    xy = page.evaluate(_JS_MAP_POINT, target)
    for _ in range(50):
        page.wait_for_timeout(200)
        again = page.evaluate(_JS_MAP_POINT, target)
        if again == xy:
            break
        xy = again
    return xy


def test_a_map_click_moves_the_sliders(watched: tuple[Any, list[int]]) -> None:
    """z set by the server (a click on the map) moves the sliders and the
    image, and the sliders send nothing back."""
    page, sent = watched
    page.locator(".vae-map").scroll_into_view_if_needed()
    target = [1.5, -1.25]
    page.mouse.click(*_still_point_of(page, target))
    page.wait_for_function(
        """([s, x]) => {
          // A rerun may rebuild the sliders: none for a moment.
          const e = document.querySelector(s);
          return e !== null && Math.abs(Number(e.value) - x) < 0.05;
        }""",
        arg=[SLIDER.format("z1"), target[0]],
        timeout=SETTLE_MS,
    )
    z = _z(page.evaluate(_JS_CANVAS)["z"])
    # The map moves the sliders at once (its vaeapp-z event); the server's
    # render of the clicked z follows.
    _settled(page, z)
    np.testing.assert_allclose(z, _server_z(page), atol=1e-4)
    before = len(sent)
    page.wait_for_timeout(600)
    assert len(sent) == before


def test_the_components_styles_survive_their_first_draw(
    watched: tuple[Any, list[int]],
) -> None:
    """The sliders' and the grid's own CSS stays on the page after they build
    their elements: the selected image is drawn large, not at its 28 pixels,
    and each slider sits on its own row under its label."""
    page, _ = watched
    page.wait_for_selector("canvas.vae-grid", state="attached", timeout=SETTLE_MS)
    rules = page.evaluate(
        """() => [...document.styleSheets].flatMap((sheet) =>
          [...sheet.cssRules].map((rule) => rule.selectorText || ''))"""
    )
    assert any("vae-z-slider" in r for r in rules)
    assert any("vae-grid" in r for r in rules)
    pixels, shown = page.evaluate(
        """() => { const c = document.querySelector('canvas.vae-digit');
          return [c.width, c.getBoundingClientRect().width]; }"""
    )
    assert shown >= 4 * pixels
    label = page.locator(".vae-z-slider label").first.bounding_box()
    slider = page.locator(SLIDER.format("z1")).bounding_box()
    assert slider["y"] >= label["y"] + label["height"] - 1
