"""The one-file explorer (vaeapp.export) in real Chromium, opened from disk.

Each file is written to pytest's temporary folder and opened as a
``file://`` URL in an offline browser context whose every request is routed
here: the file itself is served, anything else is refused and fails the test.
No app server runs. The WebGL map must have all 10,000 test points; a pointer move
must decode the same image as NumPy at that z (within the float16 rounding of
the kernels); the grid must have n x n cells at the page's coordinates.
"""

from __future__ import annotations

import dataclasses
import json
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np
import pytest

if not Path("/usr/bin/chromium").exists():
    pytest.skip("Chromium not found at /usr/bin/chromium", allow_module_level=True)
pytest.importorskip(
    "playwright.sync_api", reason="the playwright package is not installed"
)

from export_helpers import wide_model  # noqa: E402

from vaeapp.explore.manifold import grid_axis, grid_points  # noqa: E402
from vaeapp.explore.projection import plane_click_to_z  # noqa: E402
from vaeapp.export.html_file import export_plane, write_export  # noqa: E402
from vaeapp.store.format import PRETRAINED_DIR  # noqa: E402
from vaeapp.store.reading import load_model  # noqa: E402
from vaeapp.store.records import LoadedModel  # noqa: E402
from vaeapp.web.assets import as_browser_decodes  # noqa: E402

VIEWPORT = {"width": 1280, "height": 1000}
READY = "body[data-ready=true]"
GRID_DONE = "#vae-grid[data-done=true]"
# One level of 255 covers the rounding of two float32 sums done in a
# different order; the float16 kernels move pixels by at most 0.01 (the page's
# bound, tests/browser/test_decoder_js.py).
ROUNDING = 1.0
FLOAT16 = 0.01 * 255 + ROUNDING

# Records what would make the file less than self-contained: CSP violations.
_INIT_JS = """
window.__csp = [];
document.addEventListener("securitypolicyviolation",
  (e) => window.__csp.push(`${e.violatedDirective} ${e.blockedURI}`));
"""
_JS_POINTS = """() => {
  const root = document.querySelector(".vae-explorer");
  return {
    kind: root.dataset.kind,
    points: root.__state.model.count,
    legend: Array.from(document.querySelectorAll(".vae-gl-class"),
                       (b) => b.textContent),
  };
}"""
# The client coordinates of map point (x, y), through the view the map
# reports (the visible range of each axis over its drawing area).
_JS_TO_CLIENT = """([x, y]) => {
  const area = document.querySelector(".vae-gl-area").getBoundingClientRect();
  const [x0, x1, y0, y1] = document.querySelector(".vae-map").dataset.view
    .split(",").map(Number);
  return [area.left + ((x - x0) / (x1 - x0)) * area.width,
          area.top + ((y1 - y) / (y1 - y0)) * area.height];
}"""
_JS_PIXELS = """(selector) => {
  const canvas = document.querySelector(selector);
  const data = canvas.getContext("2d").getImageData(0, 0, canvas.width, canvas.height);
  return Array.from(data.data);
}"""
_JS_SET_RANGE = """([selector, value]) => {
  const input = document.querySelector(selector);
  input.value = String(value);
  input.dispatchEvent(new Event("input", { bubbles: true }));
}"""


class ExportPage:
    """An exported file open in Chromium, with what it asked for besides itself."""

    def __init__(self, page: Any, url: str, model: LoadedModel, plane: Any) -> None:
        self.page, self.url, self.model, self.plane = page, url, model, plane
        self.outside: list[str] = []
        self.errors: list[str] = []

    def check_clean(self) -> None:
        """No request left the file, no CSP violation, no uncaught error."""
        assert self.outside == []
        assert self.page.evaluate("() => window.__csp") == []
        assert self.errors == []

    def pixels(self, selector: str) -> np.ndarray:
        """The RGB of the canvas ``selector`` in [0, 255], ``(h, w, 3)``."""
        rgba = np.asarray(self.page.evaluate(_JS_PIXELS, selector), np.float64)
        h, w, _ = self.model.image_shape
        return rgba.reshape(h, w, 4)[:, :, :3]

    def expected(self, z: np.ndarray, browser: bool = True) -> np.ndarray:
        """NumPy's image at ``z`` as the canvas draws it, ``(h, w, 3)`` in
        [0, 255]: with float16-rounded kernels when ``browser``."""
        vae = as_browser_decodes(self.model.vae) if browser else self.model.vae
        image = vae.decode_images(np.asarray(z, np.float32)[None])[0] * 255.0
        return np.repeat(image, 3, axis=2) if image.shape[2] == 1 else image


@contextmanager
def _open(
    browser: Any, folder: Path, model: LoadedModel, plane: str | None = None
) -> Iterator[ExportPage]:
    out = folder / f"{model.record.name}.html"
    write_export(model, out, plane)
    url = out.as_uri()
    context = browser.new_context(viewport=VIEWPORT, offline=True)
    page = context.new_page()
    opened = ExportPage(page, url, model, export_plane(model, plane))
    page.on("pageerror", lambda error: opened.errors.append(str(error)))

    def route(request_route: Any) -> None:
        if request_route.request.url == url:
            request_route.continue_()
        else:
            opened.outside.append(request_route.request.url)
            request_route.abort()

    context.route("**/*", route)
    page.add_init_script(_INIT_JS)
    page.set_default_timeout(60_000)
    page.goto(url)
    page.wait_for_selector(READY)
    page.wait_for_selector(".vae-explorer[data-drawn]")
    page.wait_for_selector(GRID_DONE)
    try:
        yield opened
    finally:
        context.close()


@pytest.fixture(scope="module")
def tutorial(
    browser: Any, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[ExportPage]:
    """mnist-tutorial's file, open once for the tests of this module that use it."""
    folder = tmp_path_factory.mktemp("export")
    with _open(
        browser, folder, load_model(PRETRAINED_DIR / "mnist-tutorial")
    ) as opened:
        yield opened


def _hover(opened: ExportPage, xy: tuple[float, float]) -> np.ndarray:
    """Move the pointer to map point ``xy``; the z the preview decoded."""
    page = opened.page
    before = page.evaluate(
        "() => document.querySelector('.vae-explorer').dataset.liveZ"
    )
    x, y = page.evaluate(_JS_TO_CLIENT, list(xy))
    page.mouse.move(x, y)
    page.wait_for_function(
        "(before) => document.querySelector('.vae-explorer').dataset.liveZ !== before",
        arg=before,
    )
    text = page.evaluate("() => document.querySelector('.vae-explorer').dataset.liveZ")
    return np.asarray([float(v) for v in text.split(",")], np.float32)


def _check_decodes_as_numpy(opened: ExportPage, xy: tuple[float, float]) -> None:
    z = _hover(opened, xy)
    # The z under the pointer is the plane's point there, to float32 rounding.
    np.testing.assert_allclose(opened.plane.coords(z), xy, atol=0.02)
    shown = opened.pixels(".vae-live")
    assert np.abs(shown - opened.expected(z)).max() <= ROUNDING
    assert np.abs(shown - opened.expected(z, browser=False)).max() <= FLOAT16


def test_opens_from_disk_with_every_point(tutorial: ExportPage) -> None:
    """Opened from disk offline, the file draws all 10,000 points."""
    drawn = tutorial.page.evaluate(_JS_POINTS)
    assert drawn["points"] == 10_000 == tutorial.model.latent_mean.shape[0]
    assert drawn["legend"] == [str(d) for d in range(10)]
    tutorial.check_clean()


def test_pointer_decodes_as_numpy(tutorial: ExportPage) -> None:
    """A pointer move decodes NumPy's image at that z, within float16 rounding."""
    for xy in ((0.7, -1.1), (-2.3, 1.9)):
        _check_decodes_as_numpy(tutorial, xy)
    tutorial.check_clean()


def test_click_and_sliders_select_z(tutorial: ExportPage) -> None:
    """Click and sliders select z."""
    page = tutorial.page
    # A corner with no test point near: the click selects the point itself.
    x, y = page.evaluate(_JS_TO_CLIENT, [3.6, 3.6])
    page.mouse.click(x, y)
    page.wait_for_function(
        "() => document.querySelector('#vae-x').value.startsWith('3.')"
    )
    chosen = [float(page.input_value(s)) for s in ("#vae-x", "#vae-y")]
    # Within the 6 px of a test point, the click picks that point instead.
    np.testing.assert_allclose(chosen, [3.6, 3.6], atol=0.12)
    page.evaluate(_JS_SET_RANGE, ["#vae-x", -1.25])
    page.evaluate(_JS_SET_RANGE, ["#vae-y", 0.5])
    z = np.asarray([-1.25, 0.5], np.float32)
    shown = tutorial.pixels("#vae-selected")
    assert np.abs(shown - tutorial.expected(z)).max() <= ROUNDING
    marker = page.evaluate("() => document.querySelector('.vae-explorer').dataset.z")
    assert marker == "-1.250,0.500"
    tutorial.check_clean()


@pytest.mark.parametrize("n, spacing", [(4, "linear"), (30, "quantile")])
def test_grid_has_n_by_n_cells_at_the_pages_points(
    tutorial: ExportPage, n: int, spacing: str
) -> None:
    """Grid has n by n cells at the pages points."""
    page = tutorial.page
    page.check(f"input[name=vae-spacing][value={spacing}]")
    page.evaluate(_JS_SET_RANGE, ["#vae-grid-n", n])
    page.wait_for_selector(f"#vae-grid[data-n='{n}'][data-done=true]")
    assert page.locator("#vae-grid canvas.vae-cell").count() == n * n
    q = float(page.input_value("#vae-grid-q"))
    axis = page.evaluate(
        "() => Array.from(document.querySelectorAll('.vae-cell[data-row=\"0\"]'),"
        " (c) => c.__xy[0])"
    )
    assert axis == grid_axis(n, q, spacing).tolist()  # bit for bit
    points = grid_points(n, q, spacing)
    for row, col in ((0, 0), (n - 1, 1), (n // 2, n - 1)):
        cell = f".vae-cell[data-row='{row}'][data-col='{col}']"
        shown = tutorial.pixels(cell)
        assert (
            np.abs(shown - tutorial.expected(points[row * n + col])).max() <= ROUNDING
        )
    page.check("input[name=vae-spacing][value=quantile]")
    tutorial.check_clean()


def test_prior_samples_are_decoded_and_marked(tutorial: ExportPage) -> None:
    """Prior samples are decoded and marked."""
    page = tutorial.page
    page.fill("#vae-sample-count", "5")
    page.click("#vae-sample-draw")
    page.wait_for_function(
        "() => document.querySelectorAll('.vae-sample').length === 5"
    )
    stars = page.evaluate(
        "() => window.__vaeapp.shapes({ ...document.querySelector('.vae-explorer')"
        ".__state.layoutData }).filter((s) => s.name === 'sample').length"
    )
    assert stars == 5
    tutorial.check_clean()


def test_colour_model_with_factors(browser: Any, tmp_path: Path) -> None:
    """shapes-small (32x32 RGB): colouring by a factor, and live decoding."""
    shapes = load_model(PRETRAINED_DIR / "shapes-small")
    with _open(browser, tmp_path, shapes) as opened:
        page = opened.page
        assert page.evaluate(_JS_POINTS)["points"] == 10_000
        page.select_option("[data-testid=vae-colour]", label="Colour: hue")
        page.wait_for_function(
            "() => document.querySelector('.vae-map').dataset.colour === 'factor:4'"
        )
        assert "hue" in page.text_content("[data-testid=vae-legend]")
        _check_decodes_as_numpy(opened, (0.4, 0.9))
        page.screenshot(path=str(tmp_path / "shapes-small.png"), full_page=True)
        opened.check_clean()


def test_conv_model(browser: Any, tmp_path: Path) -> None:
    """A conv model's file draws 10,000 points and decodes as NumPy does."""
    with _open(browser, tmp_path, load_model(PRETRAINED_DIR / "mnist-conv")) as opened:
        assert opened.page.evaluate(_JS_POINTS)["points"] == 10_000
        _check_decodes_as_numpy(opened, (1.3, 0.2))
        opened.check_clean()


def test_four_dimensions_on_the_pca_plane(browser: Any, tmp_path: Path) -> None:
    """Every z the file decodes is centre + x u + y v on the PCA plane."""
    model = wide_model(load_model(PRETRAINED_DIR / "mnist-tutorial"), tmp_path)
    with _open(browser, tmp_path, model) as opened:
        plane = opened.plane
        z = _hover(opened, (1.0, -0.5))
        in_plane = plane.centre + plane.basis @ plane.coords(z)
        np.testing.assert_allclose(z, in_plane, atol=1e-5)
        _check_decodes_as_numpy(opened, (-0.8, 0.6))
        opened.check_clean()


def _first(model: LoadedModel, count: int) -> LoadedModel:
    """``model`` with only its first ``count`` test images (a small file that
    opens fast; the rules hold for any stored plane)."""
    return dataclasses.replace(
        model,
        latent_mean=model.latent_mean[:count],
        latent_log_var=model.latent_log_var[:count],
        labels=model.labels[:count],
        test_images=model.test_images[:count],
        figures={k: v[:count] for k, v in model.figures.items()},
        planes={k: v[:count] for k, v in model.planes.items()},
    )


def test_umap_file_decodes_and_selects_by_the_pages_rule(
    browser: Any, tmp_path: Path
) -> None:
    """mnist-20d's file shows its UMAP plane: the pointer decodes the z a
    click there selects on the page (plane_click_to_z), the sliders select
    that z too, and a grid cell's z (on the PCA plane) is marked where the
    page's server puts it (StoredPlane.coords)."""
    model = _first(load_model(PRETRAINED_DIR / "mnist-20d"), 1500)
    with _open(browser, tmp_path, model) as opened:
        plane, page = opened.plane, opened.page
        x0, x1, y0, y1 = plane.extent()
        xy = (0.4 * x0 + 0.6 * x1, 0.7 * y0 + 0.3 * y1)
        z = _hover(opened, xy)
        hover = page.evaluate("() => document.querySelector('.vae-explorer').__hover")
        expected, _ = plane_click_to_z(plane, np.asarray(hover))
        np.testing.assert_allclose(z, expected.astype(np.float32), rtol=1e-6)
        shown = opened.pixels(".vae-live")
        assert np.abs(shown - opened.expected(z)).max() <= ROUNDING
        page.evaluate(_JS_SET_RANGE, ["#vae-x", round(xy[0], 2)])
        page.evaluate(_JS_SET_RANGE, ["#vae-y", round(xy[1], 2)])
        # The sliders snap to their steps from the range's low end.
        set_xy = [float(page.input_value(s)) for s in ("#vae-x", "#vae-y")]
        chosen, _ = plane_click_to_z(plane, np.asarray(set_xy))
        shown = opened.pixels("#vae-selected")
        assert np.abs(shown - opened.expected(chosen)).max() <= ROUNDING
        page.click(".vae-cell[data-row='0'][data-col='0']")
        state = page.evaluate(
            "() => document.querySelector('.vae-explorer').__state.layoutData.z"
        )
        marker = page.evaluate(
            "() => document.querySelector('.vae-explorer').__state.marker"
        )
        np.testing.assert_allclose(marker, plane.coords(np.asarray(state)), atol=1e-9)
        opened.check_clean()


def test_outside_text_stays_text(browser: Any, tmp_path: Path) -> None:
    """Class names with markup in them show as text in the legend and load
    nothing (an unescaped <img src=x> would ask for a file or break the CSP)."""
    folder = tmp_path / "hostile"
    shutil.copytree(PRETRAINED_DIR / "mnist-tutorial", folder)
    config = json.loads((folder / "config.json").read_text())
    names = [
        "</script><img src=x onerror=alert(1)>",
        '"><a href="https://evil.test">x</a>',
        "<b>bold</b> & co",
    ] + [f"digit {d}" for d in range(3, 10)]
    config["data"] = {"class_names": names, "train_images": 60000}
    (folder / "config.json").write_text(json.dumps(config))
    with _open(browser, tmp_path, load_model(folder)) as opened:
        shown = opened.page.evaluate(
            "() => Array.from(document.querySelectorAll('.vae-gl-class'),"
            " (t) => t.textContent)"
        )
        assert shown == names
        assert opened.page.locator("img, a[href]").count() == 0
        opened.check_clean()


def test_zoom_and_the_real_image_under_the_pointer(tutorial: ExportPage) -> None:
    """After zooming in, hovering a test point shows its own image from the
    file, pixel for pixel, and a search flies to an image and selects it."""
    page = tutorial.page
    page.click("[data-testid=vae-reset]")
    page.wait_for_timeout(300)
    points = tutorial.plane.coords(tutorial.model.latent_mean)
    target = points[123]
    x, y = page.evaluate(_JS_TO_CLIENT, target.tolist())
    page.mouse.move(x, y)
    for _ in range(3):
        page.mouse.wheel(0, -300)
        page.wait_for_timeout(80)
    page.wait_for_timeout(400)
    x0, x1, _, _ = page.evaluate(
        "() => document.querySelector('.vae-map').dataset.view.split(',').map(Number)"
    )
    assert x1 - x0 < 8.0 / 2
    x, y = page.evaluate(_JS_TO_CLIENT, target.tolist())
    page.mouse.move(x + 2, y + 2)
    page.mouse.move(x, y)
    page.wait_for_function(
        "() => document.querySelector('.vae-explorer').dataset.realShown !== undefined"
        " && document.querySelector('.vae-explorer').dataset.realShown"
        " === document.querySelector('.vae-explorer').dataset.hovered"
    )
    shown = int(page.get_attribute(".vae-explorer", "data-real-shown"))
    h, w, _ = tutorial.model.image_shape
    rgba = np.asarray(page.evaluate(_JS_PIXELS, ".vae-real"), np.float64)
    grey = rgba.reshape(h, w, 4)[:, :, 0]
    expected = tutorial.model.test_images[shown].reshape(h, w).astype(np.float64)
    assert np.abs(grey - expected).max() <= ROUNDING
    page.fill("[data-testid=vae-search]", "#4321")
    page.press("[data-testid=vae-search]", "Enter")
    page.wait_for_function(
        "() => document.querySelector('.vae-map').dataset.found === '4321'"
    )
    chosen = [float(page.input_value(s)) for s in ("#vae-x", "#vae-y")]
    np.testing.assert_allclose(chosen, points[4321], atol=0.01)
    tutorial.check_clean()
