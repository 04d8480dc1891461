"""The explorer's and the map library loader's scripts in real Chromium, in
either order.

Streamlit loads each v2 component's script on its own, so the explorer may
render before the loader has evaluated regl-scatterplot. Both scripts are imported as
modules into a blank page, as Streamlit does, and called with the data Python
would send: inline (base64 and the bundle's text) or as URLs of static files,
which Playwright answers for a made-up origin (no app server).
"""

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

from vaeapp.store.listing import best_pretrained  # noqa: E402
from vaeapp.store.reading import load_model  # noqa: E402
from vaeapp.ui.components.latent_map import _JS as EXPLORER_JS  # noqa: E402
from vaeapp.ui.map_loader import _LOADER_JS, SCATTER_BUNDLE  # noqa: E402
from vaeapp.web.assets import pack_model, pack_model_files  # noqa: E402

# Imports a component's script as Streamlit does (an ES module) and calls its
# default export; records the triggers it sets on window.__triggers.
_JS_MOUNT = """async ([js, data, hostId]) => {
  window.__triggers = window.__triggers || [];
  const url = URL.createObjectURL(new Blob([js], { type: "text/javascript" }));
  const module = await import(url);
  module.default({
    data,
    parentElement: document.getElementById(hostId),
    setTriggerValue: (name, value) => window.__triggers.push([name, value]),
  });
  return window.__triggers;
}"""


@pytest.fixture(scope="module")
def explorer_data() -> dict[str, Any]:
    """What ``latent_explorer`` sends on a session's first run (2-D model)."""
    model = load_model(best_pretrained())
    points = model.latent_mean[:, :2].astype(np.float32)
    return {
        "token": "test-token",
        "z": [0.5, -0.25],
        "u": [1.0, 0.0],
        "v": [0.0, 1.0],
        "marker": [0.5, -0.25],
        "range": [-4.0, 4.0],
        "grid_rect": None,
        "height": 400,
        "axis_titles": ["z1", "z2"],
        "path": [],
        "samples": [],
        "ellipses": [],
        "centre": [0.0, 0.0],
        "nonlinear": False,
        "assets": pack_model(model, points),
    }


ORIGIN = "http://vaeapp.test"
_HOST_HTML = '<div id="loader"></div><div id="explorer" style="width: 900px"></div>'


@pytest.fixture
def files() -> dict[str, tuple[int, bytes]]:
    """Paths under ORIGIN the blank page's server answers: ``(status, body)``."""
    return {"/": (200, _HOST_HTML.encode())}


@pytest.fixture
def blank(browser: Any, files: dict[str, tuple[int, bytes]]) -> Iterator[Any]:
    """A page at ORIGIN whose requests ``files`` answers (404 otherwise);
    ``page.requests`` lists the paths asked for."""
    page = browser.new_page(viewport={"width": 1200, "height": 800})
    page.requests = []

    def answer(route: Any) -> None:
        path = route.request.url[len(ORIGIN) :]
        page.requests.append(path)
        status, body = files.get(path, (404, b"not found"))
        route.fulfill(status=status, body=body)

    page.route(f"{ORIGIN}/**", answer)
    page.goto(f"{ORIGIN}/")
    try:
        yield page
    finally:
        page.close()


def test_explorer_draws_its_map_once_the_library_arrives_after_it(
    blank: Any, explorer_data: dict[str, Any]
) -> None:
    """An explorer rendered before regl-scatterplot draws its map when the
    loader runs."""
    triggers = blank.evaluate(_JS_MOUNT, [EXPLORER_JS, [explorer_data], "explorer"])
    assert triggers == []
    assert blank.locator(".vae-explorer[data-drawn]").count() == 0
    bundle = SCATTER_BUNDLE.read_text(encoding="utf-8")
    blank.evaluate(_JS_MOUNT, [_LOADER_JS, [{"src": bundle}], "loader"])
    blank.wait_for_selector(".vae-explorer[data-drawn]", timeout=30_000)
    assert blank.get_attribute(".vae-explorer", "data-z") == "0.500,-0.250"
    assert blank.evaluate("() => window.__triggers") == []


def test_explorer_draws_at_once_when_the_library_came_first(
    blank: Any, explorer_data: dict[str, Any]
) -> None:
    """With regl-scatterplot already evaluated, the explorer draws in its first
    render (with no wait for the library's event)."""
    bundle = SCATTER_BUNDLE.read_text(encoding="utf-8")
    blank.evaluate(_JS_MOUNT, [_LOADER_JS, [{"src": bundle}], "loader"])
    blank.evaluate(_JS_MOUNT, [EXPLORER_JS, [explorer_data], "explorer"])
    assert blank.get_attribute(".vae-explorer", "data-kind") == "regl-scatterplot"
    blank.wait_for_selector(".vae-explorer[data-drawn]", timeout=30_000)


def test_loader_without_bundle_asks_for_it_again(blank: Any) -> None:
    """A page that lost the library and gets no bundle sets "missing"."""
    triggers = blank.evaluate(_JS_MOUNT, [_LOADER_JS, [{}], "loader"])
    assert triggers == [["missing", True]]


def _file_data(explorer_data: dict[str, Any], files: dict) -> dict[str, Any]:
    """``explorer_data`` with its assets as static files served by ``files``."""
    model = load_model(best_pretrained())
    packed = pack_model_files(model, model.latent_mean[:, :2].astype(np.float32))
    files["/app/static/vaeapp/points.bin"] = (200, packed.points_blob)
    files["/app/static/vaeapp/decoder.bin"] = (200, packed.decoder_blob)
    urls = {
        "points": "app/static/vaeapp/points.bin",
        "decoder": "app/static/vaeapp/decoder.bin",
    }
    return {**explorer_data, "assets": {**packed.meta, "files": urls}}


def test_library_and_explorer_files_load_from_their_urls(
    blank: Any, files: dict, explorer_data: dict[str, Any]
) -> None:
    """From URLs: the map draws, then the decoder arrives and the live view is ready;
    the loader fetches the scripts it is asked to preload."""
    files["/app/static/vaeapp/scatterplot.js"] = (200, SCATTER_BUNDLE.read_bytes())
    files["/app/static/vaeapp/explorer.js"] = (200, EXPLORER_JS.encode())
    data = _file_data(explorer_data, files)
    blank.evaluate(_JS_MOUNT, [EXPLORER_JS, [data], "explorer"])
    sent = {
        "url": "app/static/vaeapp/scatterplot.js",
        "preload": ["app/static/vaeapp/explorer.js"],
    }
    blank.evaluate(_JS_MOUNT, [_LOADER_JS, [sent], "loader"])
    blank.wait_for_selector(".vae-explorer[data-drawn]", timeout=30_000)
    blank.wait_for_selector('.vae-explorer[data-decoder="ready"]', timeout=30_000)
    # The points came before the decoder: the map did not wait for the weights.
    asked = [p for p in blank.requests if p.endswith(".bin")]
    assert asked == ["/app/static/vaeapp/points.bin", "/app/static/vaeapp/decoder.bin"]
    assert "/app/static/vaeapp/explorer.js" in blank.requests
    assert blank.get_attribute(".vae-explorer", "data-z") == "0.500,-0.250"
    assert blank.evaluate("() => window.__triggers") == []


def test_explorer_whose_files_are_gone_asks_for_its_assets_again(
    blank: Any, files: dict, explorer_data: dict[str, Any]
) -> None:
    """A model file that fails to load sets "missing" with the model's token."""
    data = _file_data(explorer_data, files)
    del files["/app/static/vaeapp/points.bin"]
    blank.evaluate(_JS_MOUNT, [EXPLORER_JS, [data], "explorer"])
    blank.wait_for_function("() => window.__triggers.length > 0", timeout=10_000)
    assert blank.evaluate("() => window.__triggers") == [["missing", "test-token"]]


def test_loader_whose_bundle_url_fails_asks_for_the_text(blank: Any) -> None:
    """A bundle URL that fails to load sets "missing" to "inline"."""
    blank.evaluate(
        _JS_MOUNT, [_LOADER_JS, [{"url": "app/static/vaeapp/gone.js"}], "loader"]
    )
    blank.wait_for_function("() => window.__triggers.length > 0", timeout=10_000)
    assert blank.evaluate("() => window.__triggers") == [["missing", "inline"]]
