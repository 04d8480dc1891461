"""Browser tests of the explorer page in real Chromium (see conftest.py).

The tests share one page and run in file order; each reads the state it starts
from, so none relies on an earlier one having passed.
"""

from __future__ import annotations

import re
import struct
from pathlib import Path
from typing import Any

import numpy as np
import pytest

if not Path("/usr/bin/chromium").exists():
    pytest.skip("Chromium not found at /usr/bin/chromium", allow_module_level=True)
pytest.importorskip(
    "playwright.sync_api", reason="the playwright package is not installed"
)

from playwright.sync_api import TimeoutError as PlaywrightTimeout  # noqa: E402
from playwright.sync_api import expect  # noqa: E402

from devtools.browser import with_digit  # noqa: E402
from vaeapp.explore.manifold import GRID_N_DEFAULT, GRID_Q_DEFAULT, grid_axis  # noqa: E402
from vaeapp.store.listing import best_pretrained  # noqa: E402
from vaeapp.store.reading import load_model  # noqa: E402

DIGIT_IMG = ".vae-z-sliders canvas.vae-digit[data-z]"  # the explorer's decoded digit
GRID_IMG = "canvas.vae-grid[data-by]"
LIVE_CANVAS = 'canvas[data-testid="vae-live"]'
# Streamlit 1.67 sliders are react-aria sliders: a visually hidden
# <input type="range" aria-label="..."> (no [role="slider"] attribute).
SLIDER = '.vae-z-slider input[type="range"][aria-label="{}"]'
SETTLE_MS = 30_000  # reruns can be slow on a loaded machine
# Corners of the map, tried in turn: the first with no test-set point within
# EMPTY_RADIUS that is not the current z is clicked.
CLICK_TARGETS = ((3.5, 3.5), (-3.5, 3.5), (3.5, -3.5), (-3.5, -3.5))
EMPTY_RADIUS = 0.3

# JavaScript that finds the explorer's decoded digit (other st.image's exist).


_JS_STATE = with_digit(
    """() => {
  DIGIT_IMG_JS
  const root = document.querySelector('.vae-explorer');
  // The z marker: the cross the map draws (two SVG lines named "marker") at
  // the map point root.__state.marker.
  const drawn = root && root.querySelector('.vae-gl-overlay [data-name="marker"]');
  const img = digitImg();
  return {
    z: root ? root.dataset.z : null,
    decodes: root ? Number(root.dataset.decodes || 0) : 0,
    marker: drawn && root.__state ? root.__state.marker.slice() : null,
    src: img ? img.dataset.z : null,
  };
}"""
)

_JS_Z_NEAR = """([x, y, tol]) => {
  const root = document.querySelector('.vae-explorer');
  if (!root || !root.dataset.z) return false;
  const [zx, zy] = root.dataset.z.split(',').map(Number);
  return Math.abs(zx - x) <= tol && Math.abs(zy - y) <= tol;
}"""

_JS_SRC_CHANGED = with_digit(
    """(old) => {
  DIGIT_IMG_JS
  const img = digitImg();
  return !!img && img.dataset.z !== old;
}"""
)


def _state(page: Any) -> dict[str, Any]:
    return page.evaluate(_JS_STATE)


def _z_from_data(text: str) -> tuple[float, float]:
    x, y = (float(v) for v in text.split(",")[:2])
    return x, y


_JS_SHOWN_Z = """() => {
  // The "z1 = +0.00 z2 = +0.00" text under the selected digit, as numbers.
  const v = {};
  for (const el of document.querySelectorAll('.vae-z-text')) {
    for (const m of el.textContent.matchAll(/(z\\d+) = ([+-]\\d+\\.\\d+)/g)) {
      if (!(m[1] in v)) v[m[1]] = Number(m[2]);
    }
  }
  return v;
}"""


def _shown_z(page: Any) -> dict[str, float]:
    """The ``z1 = +0.00 ...`` text under the selected digit, as numbers."""
    return page.evaluate(_JS_SHOWN_Z)


def _wait_shown_z(page: Any, x: float, y: float, tol: float) -> dict[str, float]:
    """Wait until the text under the digit shows about (x, y); return it."""
    page.wait_for_function(
        f"""([x, y, tol]) => {{
          const v = ({_JS_SHOWN_Z})();
          return Math.abs(v.z1 - x) <= tol && Math.abs(v.z2 - y) <= tol;
        }}""",
        arg=[x, y, tol],
        timeout=SETTLE_MS,
    )
    return _shown_z(page)


def _limit() -> float:
    """The range of z of the model the page opens on (wider than the prior's
    +-4 where its encoded test set reaches further)."""
    return load_model(best_pretrained()).z_limit


def _plot_area(page: Any) -> dict[str, Any]:
    """The WebGL map's drawing area on the page and the ranges it shows (the
    view it reports in ``data-view``: x0, x1, y0, y1).

    Unzoomed, both axes show exactly the range z may take, the model's
    +-z_limit, in a square area.
    """
    box = page.locator(".vae-gl-area").bounding_box()
    x0, x1, y0, y1 = page.evaluate(
        "() => document.querySelector('.vae-map').dataset.view.split(',').map(Number)"
    )
    return {"box": box, "x": [x0, x1], "y": [y0, y1]}


def _latent_to_page(page: Any, x: float, y: float) -> tuple[float, float]:
    area = _plot_area(page)
    box, (x0, x1), (y0, y1) = area["box"], area["x"], area["y"]
    px = box["x"] + (x - x0) / (x1 - x0) * box["width"]
    py = box["y"] + (y1 - y) / (y1 - y0) * box["height"]  # y points up
    return px, py


def _nearest_point(page: Any, x: float, y: float) -> float:
    """Distance from (x, y) to the nearest of the map's test points."""
    return page.evaluate(
        """([x, y]) => {
          const model = document.querySelector('.vae-explorer').__state.model;
          let best = Infinity;
          for (let i = 0; i < model.count; i++) {
            const d = Math.hypot(model.points[2 * i] - x, model.points[2 * i + 1] - y);
            best = Math.min(best, d);
          }
          return best;
        }""",
        [x, y],
    )


def _canvas_url(page: Any) -> str:
    return page.eval_on_selector(LIVE_CANVAS, "c => c.toDataURL()")


def test_page_renders_map_legend_and_digit(page: Any) -> None:
    """The page shows the WebGL map of all 10,000 test points with a legend
    entry per digit, the digit and the grid."""
    assert page.locator(".vae-gl-canvas").first.is_visible()
    assert page.get_attribute(".vae-explorer", "data-kind") == "regl-scatterplot"
    count = page.evaluate(
        "() => document.querySelector('.vae-explorer').__state.model.count"
    )
    assert count == 10_000
    legend = page.locator(".vae-gl-legend .vae-gl-class")
    assert legend.all_inner_texts() == [str(d) for d in range(10)]
    assert page.locator(DIGIT_IMG).is_visible()
    assert page.eval_on_selector(DIGIT_IMG, "canvas => canvas.width") > 0
    assert page.locator(GRID_IMG).is_visible()
    assert page.errors == []


def test_click_on_empty_map_area_selects_that_z(page: Any) -> None:
    """A click on an empty spot of the map selects that z: digit, sliders, marker."""
    before = _state(page)
    area = _plot_area(page)
    assert area["y"] == pytest.approx([-_limit(), _limit()], abs=1e-6)
    current = _z_from_data(before["z"])
    x, y = next(
        (cx, cy)
        for cx, cy in CLICK_TARGETS
        if _nearest_point(page, cx, cy) > EMPTY_RADIUS
        and max(abs(cx - current[0]), abs(cy - current[1])) > 0.5
    )
    assert area["x"][0] <= x <= area["x"][1] and area["y"][0] <= y <= area["y"][1]
    page.mouse.click(*_latent_to_page(page, x, y))
    try:
        page.wait_for_function(_JS_Z_NEAR, arg=[x, y, 0.05], timeout=10_000)
        committed = True
    except PlaywrightTimeout:
        committed = False
    assert committed, (
        f"a click on the map at latent ({x}, {y}) did not commit z within 10 s: "
        f".vae-explorer data-z is still {_state(page)['z']!r} (was {before['z']!r}); "
        "does the map's pointerup listener ever see the release?"
    )
    page.wait_for_function(_JS_SRC_CHANGED, arg=before["src"], timeout=SETTLE_MS)
    shown = _wait_shown_z(page, x, y, 0.05)
    after = _state(page)
    assert after["src"] != before["src"]
    assert shown["z1"] == pytest.approx(x, abs=0.05)
    assert shown["z2"] == pytest.approx(y, abs=0.05)
    assert after["marker"] == pytest.approx([x, y], abs=0.05)


def test_pointer_moves_redraw_live_canvas(page: Any) -> None:
    """Hovering over the map redraws the live canvas in the browser; z is unchanged."""
    start = _state(page)
    a = _latent_to_page(page, -3.0, 3.0)
    b = _latent_to_page(page, 3.0, -3.0)
    page.mouse.move(a[0] - 40, a[1], steps=4)
    page.mouse.move(*a, steps=4)
    page.wait_for_function(
        "n => Number(document.querySelector('.vae-explorer').dataset.decodes || 0) > n",
        arg=start["decodes"],
    )
    page.wait_for_timeout(100)  # let the last requested frame draw
    at_a = _state(page)["decodes"]
    canvas_a = _canvas_url(page)
    page.mouse.move(*b, steps=12)
    page.wait_for_function(
        """([n, url]) => Number(document.querySelector('.vae-explorer').dataset.decodes)
             > n && document.querySelector('canvas[data-testid="vae-live"]').toDataURL()
             !== url""",
        arg=[at_a, canvas_a],
    )
    end = _state(page)
    assert _canvas_url(page) != canvas_a
    assert end["decodes"] > at_a > start["decodes"]
    assert end["z"] == start["z"]  # hovering never commits
    assert page.locator('[data-testid="vae-live-z"]').inner_text().startswith("z1 = ")
    page.mouse.move(5, 5)  # leave the map


def test_slider_change_moves_marker(page: Any) -> None:
    """A keyboard change of the z1 slider moves the map's marker and data-z to it."""
    slider = page.locator(SLIDER.format("z1"))
    before = _state(page)
    current = float(slider.input_value())
    edge = _limit()  # the sliders span the model's range of z
    key, target = ("End", edge) if current < edge else ("Home", -edge)
    _, z2 = _z_from_data(before["z"])
    slider.focus()
    page.keyboard.press(key)
    page.wait_for_function(_JS_Z_NEAR, arg=[target, z2, 1e-3], timeout=SETTLE_MS)
    page.wait_for_function(_JS_SRC_CHANGED, arg=before["src"], timeout=SETTLE_MS)
    after = _state(page)
    assert after["z"] != before["z"]
    assert after["marker"][0] == pytest.approx(target, abs=1e-6)
    assert after["marker"][1] == pytest.approx(z2, abs=1e-3)
    assert float(slider.input_value()) == pytest.approx(target)
    assert _wait_shown_z(page, target, z2, 0.01)["z1"] == pytest.approx(target)
    # The map follows the sliders in the browser; the server hears of z when
    # they settle, and its render carries it (the next test starts from it).
    page.wait_for_function(
        "(x) => Math.abs(document.querySelector('.vae-explorer').parentElement"
        ".__latest.z[0] - x) < 1e-3",
        arg=target,
        timeout=SETTLE_MS,
    )


def test_grid_cell_click_moves_marker_to_cell(page: Any) -> None:
    """A grid-cell click selects its z (top-left: lowest z1, highest z2)."""
    grid = page.locator(GRID_IMG)
    grid.scroll_into_view_if_needed()
    n = int(grid.get_attribute("data-n"))
    assert n == GRID_N_DEFAULT == 15
    axis = [float(v) for v in grid_axis(n, GRID_Q_DEFAULT)]
    before = _state(page)
    row, col = 0, 0
    target = (axis[0], axis[-1])  # top-left cell
    if all(
        abs(v - t) < 1e-3
        for v, t in zip(_z_from_data(before["z"]), target, strict=True)
    ):
        row, col, target = n - 1, n - 1, (axis[-1], axis[0])  # already there
    box = grid.bounding_box()
    grid.click(
        position={
            "x": (col + 0.5) * box["width"] / n,
            "y": (row + 0.5) * box["height"] / n,
        }
    )
    page.wait_for_function(_JS_Z_NEAR, arg=[*target, 1e-3], timeout=SETTLE_MS)
    page.wait_for_function(_JS_SRC_CHANGED, arg=before["src"], timeout=SETTLE_MS)
    shown = _wait_shown_z(page, *target, 0.006)
    after = _state(page)
    assert after["marker"] == pytest.approx(list(target), abs=1e-3)
    assert shown["z1"] == pytest.approx(target[0], abs=0.006)
    assert shown["z2"] == pytest.approx(target[1], abs=0.006)
    if (row, col) == (0, 0):
        assert target[0] < 0 < target[1]
    page.wait_for_selector(GRID_IMG, state="visible")
    assert page.errors == []


def test_drawing_a_digit_encodes_it_and_draws_its_ellipse(page: Any) -> None:
    """Strokes on the pad, then Encode, show the input, its posterior and ellipse."""
    pad = page.locator('[data-testid="vae-draw-pad"]')
    pad.scroll_into_view_if_needed()
    box = pad.bounding_box()
    page.mouse.move(box["x"] + box["width"] * 0.5, box["y"] + box["height"] * 0.15)
    page.mouse.down()
    for step in range(1, 21):
        page.mouse.move(
            box["x"] + box["width"] * 0.5,
            box["y"] + box["height"] * (0.15 + 0.035 * step),
        )
    page.mouse.up()
    page.locator('[data-testid="vae-draw-encode"]').click()
    page.get_by_text("Posterior mean").wait_for(timeout=30_000)
    page.wait_for_selector('.vae-gl-overlay path[stroke="#c92a2a"]', timeout=30_000)
    assert page.errors == []


def test_digit_download_is_a_png_of_the_selected_digit(
    page: Any, tmp_path: Path
) -> None:
    """The digit download button gives a 224x224 PNG file."""
    # A click while a rerun redraws the button can be lost: wait until the
    # page's script has stopped running.
    page.wait_for_selector(
        '[data-testid="stStatusWidget"]', state="detached", timeout=SETTLE_MS
    )
    button = page.get_by_role("button", name="Download image (PNG)")
    button.scroll_into_view_if_needed()
    with page.expect_download() as info:
        button.click()
    path = tmp_path / "digit.png"
    info.value.save_as(path)
    data = path.read_bytes()
    assert data.startswith(b"\x89PNG\r\n\x1a\n")
    width, height = struct.unpack(">II", data[16:24])
    assert (width, height) == (224, 224)


def test_click_on_a_data_point_inspects_that_test_digit(page: Any) -> None:
    """A click on a test point opens its panel, moves z there, draws its ellipse."""
    from vaeapp.store.listing import best_pretrained
    from vaeapp.store.reading import load_model

    means = load_model(best_pretrained()).latent_mean
    inside = np.flatnonzero(np.abs(means).max(axis=1) < 3.0)
    # An isolated point, so the click cannot land nearer to another one.
    gaps = [np.sort(np.linalg.norm(means - means[i], axis=1))[1] for i in inside[:400]]
    index = int(inside[int(np.argmax(gaps))])
    x, y = (float(v) for v in means[index])
    page.locator(".vae-map").scroll_into_view_if_needed()
    px, py = _latent_to_page(page, x, y)
    page.mouse.move(px - 30, py)
    page.mouse.move(px, py, steps=5)
    # The map picks the point the library says is under the pointer.
    page.wait_for_function(
        "(i) => document.querySelector('.vae-explorer').dataset.hovered === String(i)",
        arg=index,
        timeout=SETTLE_MS,
    )
    page.mouse.click(px, py)
    panel = page.locator(".st-key-inspect_panel")
    panel.get_by_text(f"Test image #{index}").wait_for(timeout=SETTLE_MS)
    # The panel's heading can arrive a message before its pictures.
    expect(panel.locator('[data-testid="stImage"] img')).to_have_count(
        3, timeout=SETTLE_MS
    )
    page.wait_for_function(
        "() => [...document.querySelectorAll('.st-key-inspect_panel img')]"
        ".every(img => img.complete && img.naturalWidth === 140)",
        timeout=SETTLE_MS,
    )
    page.wait_for_function(_JS_Z_NEAR, arg=[x, y, 0.01], timeout=SETTLE_MS)
    page.wait_for_function(
        "([x, s]) => { const e = document.querySelector(s);"
        " return e !== null && Math.abs(Number(e.value) - x) < 0.01; }",
        arg=[x, SLIDER.format("z1")],
        timeout=SETTLE_MS,
    )
    page.wait_for_selector(
        '.vae-gl-overlay path[stroke="#1971c2"]', state="attached", timeout=SETTLE_MS
    )
    # The ellipse is drawn last, over the z marker's cross at its centre.
    last = page.evaluate(
        "() => document.querySelector('.vae-gl-overlay').lastElementChild"
        ".getAttribute('stroke')"
    )
    assert last == "#1971c2"
    assert page.errors == []


_JS_SET_EXPLORER_WIDTH = """(width) => {
  document.querySelector('.vae-explorer').style.width = width;
}"""
_JS_SIDE = "() => Number(document.querySelector('.vae-map').dataset.side)"


def test_map_redraws_at_its_box_width_when_its_column_changes(page: Any) -> None:
    """The map follows its column's width (sidebar, late styles), not only the
    window: a narrower square, then its old size back, showing the same view."""
    side = page.evaluate(_JS_SIDE)
    width = page.evaluate(
        "() => document.querySelector('.vae-explorer').getBoundingClientRect().width"
    )
    view = _plot_area(page)
    try:
        page.evaluate(_JS_SET_EXPLORER_WIDTH, f"{round(width) - 100}px")
        page.wait_for_function(f"(s) => ({_JS_SIDE})() < s - 60", arg=side)
        narrow = page.locator(".vae-gl-area").bounding_box()
        assert narrow["width"] == pytest.approx(page.evaluate(_JS_SIDE), abs=1)
        assert narrow["height"] == pytest.approx(narrow["width"], abs=1)
    finally:
        page.evaluate(_JS_SET_EXPLORER_WIDTH, "")
    page.wait_for_function(f"(s) => ({_JS_SIDE})() === s", arg=side)
    after = _plot_area(page)
    assert after["box"]["width"] == pytest.approx(side, abs=1)
    assert after["x"] == pytest.approx(view["x"], abs=1e-3)
    assert after["y"] == pytest.approx(view["y"], abs=1e-3)


_JS_MAP_GEOMETRY = """() => {
  const map = document.querySelector('.vae-map');
  const [x0, x1, y0, y1] = map.dataset.view.split(',').map(Number);
  const area = map.querySelector('.vae-gl-area').getBoundingClientRect();
  const range = document.querySelector('.vae-explorer').__state.range;
  return { x: [x0, x1], y: [y0, y1], range, w: area.width, h: area.height };
}"""


def _check_map_geometry(page: Any) -> dict[str, Any]:
    geometry = page.evaluate(_JS_MAP_GEOMETRY)
    assert geometry["x"] == pytest.approx(geometry["range"], abs=1e-3)
    assert geometry["y"] == pytest.approx(geometry["range"], abs=1e-3)
    assert geometry["w"] == pytest.approx(geometry["h"], abs=1.5)
    return geometry


def test_map_shows_exactly_the_range_z_may_take_in_a_square(page: Any) -> None:
    """Unzoomed, both axes show exactly the range z may take, in a square area."""
    page.click('[data-testid="vae-reset"]')
    page.wait_for_timeout(300)
    geometry = _check_map_geometry(page)
    assert geometry["range"] == pytest.approx([-_limit(), _limit()])
    assert geometry["w"] >= 300


def test_narrow_page_keeps_the_square_map_and_puts_the_preview_under_it(
    browser: Any, server_url: str
) -> None:
    """At 420 px wide the map is still a square of the z range, the preview below."""
    context = browser.new_context(viewport={"width": 420, "height": 900})
    try:
        narrow = context.new_page()
        narrow.goto(server_url)
        ready = (
            '.vae-explorer[data-decoder="ready"]',
            ".vae-explorer[data-drawn]",
            DIGIT_IMG,
        )
        for selector in ready:
            narrow.wait_for_selector(selector, state="attached", timeout=120_000)
        geometry = _check_map_geometry(narrow)
        assert geometry["w"] >= 250
        map_box = narrow.locator(".vae-map").bounding_box()
        side_box = narrow.locator(".vae-side").bounding_box()
        assert map_box["x"] + map_box["width"] <= 420
        assert side_box["y"] >= map_box["y"] + map_box["height"] - 1
    finally:
        context.close()


def test_click_at_the_edge_of_the_map_is_a_valid_z(page: Any) -> None:
    """A click one pixel inside the plot area's corner selects z with no warning."""
    box = page.locator(".vae-gl-area").bounding_box()
    before = _state(page)["z"]
    alerts = page.locator('[data-testid="stAlert"]').count()
    page.mouse.click(box["x"] + box["width"] - 1, box["y"] + 1)
    page.wait_for_function(
        "(old) => document.querySelector('.vae-explorer').dataset.z !== old",
        arg=before,
        timeout=SETTLE_MS,
    )
    page.wait_for_timeout(300)
    assert page.locator('[data-testid="stAlert"]').count() == alerts
    z1, z2 = _z_from_data(_state(page)["z"])
    edge = _limit()
    assert edge - 0.1 <= z1 <= edge and edge - 0.1 <= z2 <= edge


def test_decode_rate_text_goes_when_the_pointer_leaves_the_map(page: Any) -> None:
    """Once the pointer leaves, the decode rate is cleared and the preview is
    empty with a hint."""
    a = _latent_to_page(page, -2.0, 1.0)
    page.mouse.move(*a)
    for step in range(30):
        page.mouse.move(a[0] + 4 * step, a[1] + 2 * step)
        page.wait_for_timeout(15)
    rate = page.locator('[data-testid="vae-rate"]')
    expect(rate).to_contain_text("decodes/s", timeout=5_000)
    page.mouse.move(5, 5)
    expect(rate).to_have_text("", timeout=2_000)
    hint = page.locator('[data-testid="vae-live-z"]').inner_text()
    assert hint == "move over the map"
    # Nothing under the pointer: the preview is empty, not a second copy of
    # the selected digit.
    drawn = page.eval_on_selector(
        LIVE_CANVAS,
        "c => c.getContext('2d').getImageData(0, 0, c.width, c.height).data"
        ".some((v, i) => i % 4 === 3 && v > 0)",
    )
    assert not drawn


def test_inspected_ellipse_is_drawn_over_the_marker_and_never_tiny(page: Any) -> None:
    """Posterior ellipses are the shapes after the z marker, at least 0.3 wide."""
    shapes = page.evaluate(
        """() => {
          const a = (k) => k * Math.PI / 12;
          const tiny = [...Array(24).keys()].map((k) => [
            0.5 + 0.01 * Math.cos(a(k)), -0.25 + 0.01 * Math.sin(a(k))]);
          return window.__vaeapp.shapes({
            grid_rect: null, path: [], samples: [], marker: [0.5, -0.25],
            ellipses: [{ points: tiny, color: '#1971c2' }] });
        }"""
    )
    kinds = [s["type"] for s in shapes]
    assert kinds[-4:] == ["line", "line", "path", "path"]
    xs = [float(v) for v in re.findall(r"[ML](-?[\d.]+),", shapes[-1]["path"])]
    assert max(xs) - min(xs) >= 0.3 - 1e-6
