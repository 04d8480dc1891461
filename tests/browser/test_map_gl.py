"""The WebGL map (vaeapp/web/scatter_map.js) with 200,000 generated points in
real Chromium: zoom and click, lasso and box, hover, colour by a figure,
search, the legend's filter and the "vaeapp-z" events. The map is drawn alone
in a blank page (devtools/map_page.py), as the page's component draws it, and
its requests to the host are recorded on ``window.__events``."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import numpy as np
import pytest

from devtools.browser import browser_missing_reason

if browser_missing_reason():
    pytest.skip(browser_missing_reason(), allow_module_level=True)

from devtools.map_page import GeneratedMap, generated_map, open_map_page  # noqa: E402
from vaeapp.explore.selection import points_in_polygon  # noqa: E402

N_POINTS = 200_000
_EVENTS = "() => window.__events"
_VIEW = "() => document.querySelector('.vae-map').dataset.view.split(',').map(Number)"


@pytest.fixture(scope="module")
def generated() -> GeneratedMap:
    """The 200,000 points, with labels and figures."""
    return generated_map(N_POINTS, seed=3)


@pytest.fixture
def gl_page(browser: Any, generated: GeneratedMap) -> Iterator[Any]:
    """A page with the WebGL map of ``generated`` drawn, and made-up images."""
    page, _ = open_map_page(browser, generated, "regl", images=True)
    try:
        yield page
    finally:
        page.close()


def _area(page: Any) -> dict[str, float]:
    return page.locator(".vae-gl-area").bounding_box()


def _to_client(page: Any, xy: np.ndarray) -> np.ndarray:
    """Map coordinates ``(k, 2)`` -> client pixels, through the view the map
    reports (its visible range of each axis)."""
    x0, x1, y0, y1 = page.evaluate(_VIEW)
    box = _area(page)
    px = box["x"] + (xy[:, 0] - x0) / (x1 - x0) * box["width"]
    py = box["y"] + (y1 - xy[:, 1]) / (y1 - y0) * box["height"]
    return np.stack([px, py], axis=1)


def _zoom(page: Any, at: tuple[float, float], steps: int = 4) -> None:
    box = _area(page)
    page.mouse.move(
        float(box["x"] + at[0] * box["width"]), float(box["y"] + at[1] * box["height"])
    )
    for _ in range(steps):
        page.mouse.wheel(0, -300)
        page.wait_for_timeout(60)
    page.wait_for_timeout(400)


def test_zoom_then_click_on_a_point_selects_its_z(
    gl_page: Any, generated: GeneratedMap
) -> None:
    """After zooming in, a click on a lone point commits [x, y, i] of that point."""
    # Zoom where points are sparse: outside the ring of clusters, in range.
    radius = np.hypot(*generated.points.T)
    far = np.flatnonzero((radius > 3.6) & (np.abs(generated.points).max(axis=1) < 3.3))
    x, y = generated.points[far[0]]
    _zoom(gl_page, ((x + 4) / 8, (4 - y) / 8))
    x0, x1, y0, y1 = gl_page.evaluate(_VIEW)
    assert x1 - x0 < 4.0  # zoomed in from the 8-unit range
    pixels = _to_client(gl_page, generated.points.astype(np.float64))
    box = _area(gl_page)
    inside = np.flatnonzero(
        (pixels[:, 0] > box["x"] + 40)
        & (pixels[:, 0] < box["x"] + box["width"] - 40)
        & (pixels[:, 1] > box["y"] + 40)
        & (pixels[:, 1] < box["y"] + box["height"] - 40)
    )
    # A point with no other point within 12 px, so that the pick is unambiguous.
    near = pixels[inside]
    lone = next(
        i
        for k, i in enumerate(inside)
        if np.sum(np.hypot(*(near - near[k]).T) < 12) == 1
    )
    gl_page.mouse.move(*(pixels[lone] + 3).tolist())
    gl_page.mouse.move(*pixels[lone].tolist())
    gl_page.wait_for_function(
        "(i) => document.querySelector('.vae-explorer').dataset.hovered === String(i)",
        arg=int(lone),
        timeout=5000,
    )
    gl_page.mouse.down()
    gl_page.mouse.up()
    commit = [e for e in gl_page.evaluate(_EVENTS) if e[0] == "commit"][-1][1]
    assert commit[2] == lone
    np.testing.assert_allclose(commit[:2], generated.points[lone], rtol=1e-6)


def test_zoom_then_click_on_empty_space_selects_the_z_under_it(
    gl_page: Any, generated: GeneratedMap
) -> None:
    """On a zoomed map a click away from points commits the map point under it."""
    _zoom(gl_page, (0.5, 0.5), steps=3)  # the middle of the ring has no points
    box = _area(gl_page)
    x0, x1, y0, y1 = gl_page.evaluate(_VIEW)
    at = (box["x"] + 0.5 * box["width"], box["y"] + 0.5 * box["height"])
    gl_page.mouse.click(*at)
    commit = [e for e in gl_page.evaluate(_EVENTS) if e[0] == "commit"][-1][1]
    assert len(commit) == 2
    expected = [(x0 + x1) / 2, (y0 + y1) / 2]
    pixel = (x1 - x0) / box["width"]
    np.testing.assert_allclose(commit, expected, atol=2 * pixel + 1e-3)


def _lasso(page: Any, corners: list[tuple[float, float]], mode: str) -> dict:
    """Draw a lasso (or box) through ``corners`` (fractions of the map's
    side) and return the selection event it sent."""
    page.click(f"[data-mode={mode}]")
    box = _area(page)
    points = [
        (box["x"] + a * box["width"], box["y"] + b * box["height"]) for a, b in corners
    ]
    page.mouse.move(*points[0])
    page.mouse.down()
    # A lasso comes back to its start; a box is dragged from corner to corner.
    ends = points[1:] + points[:1] if mode == "lasso" else points[1:]
    for (ax, ay), (bx, by) in zip(points, ends, strict=False):
        for t in np.linspace(0, 1, 12)[1:]:
            page.mouse.move(float(ax + t * (bx - ax)), float(ay + t * (by - ay)))
    page.mouse.up()
    page.wait_for_function(
        "() => window.__events.some((e) => e[0] === 'select')", timeout=10_000
    )
    return [e for e in page.evaluate(_EVENTS) if e[0] == "select"][-1][1]


def _browser_ids(page: Any) -> np.ndarray:
    return np.sort(
        np.asarray(
            page.evaluate(
                "() => Array.from("
                "document.querySelector('.vae-explorer').__gl.selected)"
            ),
            np.int64,
        )
    )


@pytest.mark.parametrize("mode", ["lasso", "box"])
def test_lasso_and_box_select_the_points_inside(
    gl_page: Any, generated: GeneratedMap, mode: str
) -> None:
    """The polygon sent holds exactly the ids the map selected (NumPy's test)."""
    _zoom(gl_page, (0.3, 0.3), steps=1)  # on a zoomed view
    corners = [(0.2, 0.2), (0.8, 0.25), (0.6, 0.8)] if mode == "lasso" else [
        (0.2, 0.2), (0.7, 0.6)]  # fmt: skip
    event = _lasso(gl_page, corners, mode)
    ids = np.flatnonzero(
        points_in_polygon(generated.points, np.asarray(event["polygon"]))
    )
    browser = _browser_ids(gl_page)
    assert event["count"] == browser.size > 1000
    assert sorted(event["classes"]) == list(range(10))
    # Points within float32 rounding of an edge may fall either way.
    assert np.setxor1d(ids, browser).size <= max(2, browser.size // 10_000)


def test_legend_filter_combines_with_the_lasso(
    gl_page: Any, generated: GeneratedMap
) -> None:
    """A class hidden in the legend is left out of the lasso and of its event."""
    gl_page.click(".vae-gl-class[data-cls='0']")
    gl_page.click(".vae-gl-class[data-cls='1']")
    event = _lasso(
        gl_page, [(0.05, 0.05), (0.95, 0.05), (0.95, 0.95), (0.05, 0.95)], "lasso"
    )
    assert event["classes"] == [2, 3, 4, 5, 6, 7, 8, 9]
    picked = _browser_ids(gl_page)
    assert picked.size > 1000
    assert not np.isin(generated.labels[picked], [0, 1]).any()


def test_hover_shows_the_real_image_of_the_point(
    gl_page: Any, generated: GeneratedMap
) -> None:
    """Hovering a point draws its real image and names it with its loss."""
    _zoom(gl_page, (0.75, 0.35), steps=5)
    pixels = _to_client(gl_page, generated.points.astype(np.float64))
    box = _area(gl_page)
    centre = np.array([box["x"] + box["width"] / 2, box["y"] + box["height"] / 2])
    i = int(np.argmin(np.hypot(*(pixels - centre).T)))
    gl_page.mouse.move(*(pixels[i] + 2).tolist())
    gl_page.mouse.move(*pixels[i].tolist())
    gl_page.wait_for_function(
        "() => document.querySelector('.vae-explorer').dataset.realShown !== undefined",
        timeout=5000,
    )
    shown = int(gl_page.get_attribute(".vae-explorer", "data-real-shown"))
    grey = gl_page.evaluate(
        "() => document.querySelector('.vae-real').getContext('2d')"
        ".getImageData(5, 5, 1, 1).data[0]"
    )
    assert abs(grey - 255 * ((shown * 37) % 251) / 255) <= 1
    text = gl_page.text_content("[data-testid=vae-real-text]")
    assert text.startswith(f"#{shown} ({generated.labels[shown]})")
    assert f"reconstruction {generated.figures['recon'][shown]:.1f} nats" in text
    # The point shown is the one under the pointer (or one within its radius).
    assert np.hypot(*(pixels[shown] - pixels[i])) <= 6
    # The live decode runs beside it.
    assert int(gl_page.get_attribute(".vae-explorer", "data-decodes")) >= 1


def test_colour_by_elbo_follows_numpy_order(
    gl_page: Any, generated: GeneratedMap
) -> None:
    """Colour by −ELBO: the colour values rise with −ELBO, and the legend says so."""
    gl_page.select_option("[data-testid=vae-colour]", "elbo")
    gl_page.wait_for_function(
        "() => document.querySelector('.vae-map').dataset.colour === 'elbo'",
        timeout=20_000,
    )
    scaled = np.asarray(
        gl_page.evaluate(
            "() => Array.from("
            "document.querySelector('.vae-explorer').__gl.scale.scaled)"
        )
    )
    order = np.argsort(generated.figures["elbo"], kind="stable")
    assert np.all(np.diff(scaled[order]) >= 0)
    assert scaled.min() == 0 and scaled.max() == 1
    assert "−ELBO" in gl_page.text_content("[data-testid=vae-legend]")


def test_search_flies_to_and_selects_the_point(
    gl_page: Any, generated: GeneratedMap
) -> None:
    """A search's answer (data.focus) zooms the map onto the point, selected."""
    gl_page.fill("[data-testid=vae-search]", "1234")
    gl_page.press("[data-testid=vae-search]", "Enter")
    assert ["search", "1234"] in gl_page.evaluate(_EVENTS)
    gl_page.evaluate(
        """() => {
          const host = document.getElementById('host');
          const data = { ...window.__data, focus: { i: 1234, serial: 1 } };
          drawScatterMap(host, window.__model, data,
                         { commit: () => {}, select: () => {}, search: () => {} });
        }"""
    )
    gl_page.wait_for_timeout(900)  # the flight's transition
    x0, x1, y0, y1 = gl_page.evaluate(_VIEW)
    x, y = generated.points[1234]
    assert x1 - x0 < 2.0 and x0 < x < x1 and y0 < y < y1
    assert _browser_ids(gl_page).tolist() == [1234]


def test_sliders_event_moves_the_marker_and_a_click_sends_one(gl_page: Any) -> None:
    """A "vaeapp-z" event moves the marker; a click dispatches one from "map"."""
    gl_page.evaluate(
        """() => { window.__z = [];
          window.addEventListener('vaeapp-z', (e) => window.__z.push(e.detail));
          window.dispatchEvent(new CustomEvent('vaeapp-z',
            { detail: { z: [1.5, -2], source: 'sliders' } })); }"""
    )
    assert gl_page.get_attribute(".vae-explorer", "data-z") == "1.500,-2.000"
    cross = gl_page.locator(
        ".vae-gl-overlay path[data-name=marker]"
    ).first.bounding_box()
    centre = _to_client(gl_page, np.array([[1.5, -2.0]]))[0]
    assert abs(cross["x"] + cross["width"] / 2 - centre[0]) < 2
    assert abs(cross["y"] + cross["height"] / 2 - centre[1]) < 2
    box = _area(gl_page)
    gl_page.mouse.click(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    sent = gl_page.evaluate("() => window.__z")
    assert sent[-1]["source"] == "map" and len(sent[-1]["z"]) == 2
