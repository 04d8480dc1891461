"""Browser test of the stored UMAP plane on the page (the shipped mnist-20d):
picked in the plane picker, drawn by the WebGL map; a click on empty space
selects the distance-weighted mean z of its nearest points and a click on a
point that image's z, and the page says which; the pointer decodes the z a
click there would select, and the sliders move the z marker where the server
puts it."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from devtools.browser import browser_missing_reason
from vaeapp.explore.projection import CLICK_NEIGHBOURS, plane_click_to_z, stored_plane
from vaeapp.store.format import PRETRAINED_DIR
from vaeapp.store.reading import load_model

if browser_missing_reason():
    pytest.skip(browser_missing_reason(), allow_module_level=True)

MODEL = "mnist-20d"
LOAD_MS = 120_000
SETTLE_MS = 60_000
DRAWN = ".vae-explorer[data-drawn]"

# The page position of map point (x, y), through the view the map reports.
_JS_TO_PAGE = """([x, y]) => {
  const map = document.querySelector('.st-key-explorer .vae-map');
  const [x0, x1, y0, y1] = map.dataset.view.split(',').map(Number);
  const box = map.querySelector('.vae-gl-area').getBoundingClientRect();
  return [box.left + (x - x0) / (x1 - x0) * box.width,
          box.top + (y1 - y) / (y1 - y0) * box.height];
}"""
_JS_ROOT = "document.querySelector('.st-key-explorer .vae-explorer')"
_JS_Z = f"() => {_JS_ROOT}.dataset.z"
SLIDER = '.vae-z-slider input[type="range"][aria-label="{}"]'


def _z_text(z: np.ndarray) -> str:
    return ",".join(f"{v:.3f}" for v in np.asarray(z, np.float64))


@pytest.fixture(scope="module")
def umap_page(browser: Any, server_url: str) -> Any:
    """The page on mnist-20d with the UMAP plane picked and drawn."""
    context = browser.new_context(viewport={"width": 1400, "height": 1100})
    page = context.new_page()
    page.errors = []
    page.on("pageerror", lambda error: page.errors.append(str(error)))
    page.goto(f"{server_url}/?model={MODEL}", timeout=LOAD_MS)
    page.wait_for_selector(DRAWN, timeout=LOAD_MS)
    page.get_by_text("UMAP (stored)").click()
    page.wait_for_function(
        "() => { const r = document.querySelector('.st-key-explorer .vae-explorer');"
        " return r && r.dataset.drawn && r.dataset.drawn.includes('-umap|'); }",
        timeout=SETTLE_MS,
    )
    yield page
    context.close()


def test_umap_plane_is_drawn_with_its_axes(umap_page: Any) -> None:
    """The picked plane is the stored UMAP one: its titles on the axes."""
    text = umap_page.locator(".st-key-explorer .vae-gl-x").inner_text()
    assert "UMAP" in text
    assert umap_page.errors == []


def test_click_on_empty_space_selects_the_nearest_points_mean(umap_page: Any) -> None:
    """A click far from every point moves z to the mean of its nearest points'
    z, and the caption lists those points."""
    model = load_model(PRETRAINED_DIR / MODEL)
    points = model.planes["umap"].astype(np.float64)
    # The corner of the map (just inside its range) farthest from any point.
    lo, hi = umap_page.evaluate(
        "() => document.querySelector('.st-key-explorer .vae-explorer').__state.range"
    )
    inset = lo + 0.03 * (hi - lo), hi - 0.03 * (hi - lo)
    corners = np.array([[x, y] for x in inset for y in inset])
    gaps = [np.hypot(*(points - c).T).min() for c in corners]
    xy = corners[int(np.argmax(gaps))]
    assert max(gaps) > 1.0  # empty space: no point near
    rows = np.argsort(np.square(points - xy).sum(1), kind="stable")[:CLICK_NEIGHBOURS]
    weights = 1.0 / np.square(points[rows] - xy).sum(1)
    expected = weights @ model.latent_mean[rows].astype(np.float64) / weights.sum()
    umap_page.mouse.click(*umap_page.evaluate(_JS_TO_PAGE, xy.tolist()))
    caption = umap_page.get_by_text(
        f"weighted mean of the {CLICK_NEIGHBOURS} nearest test images"
    )
    caption.wait_for(timeout=SETTLE_MS)
    assert all(f"#{int(r)}" in caption.inner_text() for r in rows)
    umap_page.wait_for_function(
        f"(z) => ({_JS_Z})() === z", arg=_z_text(expected), timeout=SETTLE_MS
    )
    assert umap_page.errors == []


def test_click_on_a_point_selects_its_z(umap_page: Any) -> None:
    """A click on a lone point moves z to that test image's mean; the caption
    names it."""
    model = load_model(PRETRAINED_DIR / MODEL)
    points = model.planes["umap"].astype(np.float64)
    # The point with the farthest nearest neighbour: the pointer on it is on
    # it alone.
    gaps = [np.sort(np.hypot(*(points - p).T))[1] for p in points[:2000]]
    index = int(np.argmax(gaps))
    px, py = umap_page.evaluate(_JS_TO_PAGE, points[index].tolist())
    umap_page.mouse.move(px - 20, py)
    umap_page.mouse.move(px, py, steps=5)
    umap_page.wait_for_function(
        "(i) => document.querySelector('.st-key-explorer .vae-explorer')"
        ".dataset.hovered === String(i)",
        arg=index,
        timeout=SETTLE_MS,
    )
    umap_page.mouse.click(px, py)
    umap_page.get_by_text(f"selected the z of test image #{index}").wait_for(
        timeout=SETTLE_MS
    )
    umap_page.wait_for_function(
        f"(z) => ({_JS_Z})() === z",
        arg=_z_text(model.latent_mean[index]),
        timeout=SETTLE_MS,
    )
    assert umap_page.errors == []


def test_the_pointer_decodes_the_z_a_click_there_selects(umap_page: Any) -> None:
    """Hovering the UMAP plane decodes live in the browser, and the z it
    decodes is the server's plane_click_to_z at the pointer (float32)."""
    plane = stored_plane(load_model(PRETRAINED_DIR / MODEL), "umap")
    before = int(umap_page.evaluate(f"() => Number({_JS_ROOT}.dataset.decodes || 0)"))
    x0, x1, y0, y1 = plane.extent()
    for xy in ([0.3 * x0 + 0.7 * x1, 0.6 * y0 + 0.4 * y1], [x0 + 0.01, y1 - 0.01]):
        px, py = umap_page.evaluate(_JS_TO_PAGE, xy)
        umap_page.mouse.move(px, py)
        umap_page.wait_for_function(
            f"() => {_JS_ROOT}.__hover && {_JS_ROOT}.dataset.liveZ"
            f" && Number({_JS_ROOT}.dataset.decodes) > {before}"
        )
        umap_page.wait_for_timeout(100)  # the decode of the last move
        hover, live = umap_page.evaluate(
            f"() => [{_JS_ROOT}.__hover, {_JS_ROOT}.dataset.liveZ]"
        )
        z, _ = plane_click_to_z(plane, np.asarray(hover))
        got = np.array(live.split(","), np.float64)
        np.testing.assert_allclose(got, z.astype(np.float32), rtol=1e-6, atol=1e-7)
    assert umap_page.locator(".st-key-explorer .vae-live.vae-idle").count() == 0
    assert umap_page.errors == []


def test_a_slider_moves_the_z_marker_on_the_umap_plane(umap_page: Any) -> None:
    """An arrow key on a z slider moves the map's marker at once, to where
    the server's rule (StoredPlane.coords) puts the new z."""
    plane = stored_plane(load_model(PRETRAINED_DIR / MODEL), "umap")
    umap_page.mouse.move(1, 1)  # off the map
    before = umap_page.evaluate(f"() => {_JS_ROOT}.__state.marker.slice()")
    slider = umap_page.locator(SLIDER.format("z1"))
    slider.focus()
    for _ in range(6):
        umap_page.keyboard.press("ArrowRight")
    marker, z = umap_page.evaluate(
        f"() => [{_JS_ROOT}.__state.marker, {_JS_ROOT}.__state.z]"
    )
    assert marker != before
    np.testing.assert_allclose(marker, plane.coords(np.asarray(z)), atol=1e-9)
    assert umap_page.errors == []
