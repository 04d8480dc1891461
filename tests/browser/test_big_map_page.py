"""The app with a 200,000-point model (devtools/big_model.py): the WebGL map
is drawn, a box selection reaches the server, which finds the same points
in its polygon and shows the selection's panel, and a search flies the map
to the image found and moves z to it. The folder stores the pixels of its
first 10,000 images; the rest come from a data cache the server has."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import numpy as np
import pytest

from devtools import server as devserver
from devtools.big_model import big_model_folder
from devtools.browser import browser_missing_reason

if browser_missing_reason():
    pytest.skip(browser_missing_reason(), allow_module_level=True)

POINTS = 200_000
STORED = 10_000  # images the folder stores; the others are in its data cache
NAME = "big"
START_S = 90.0
LOAD_MS = 120_000


@pytest.fixture(scope="module")
def big_page(browser: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """The app on the big model (``?model=big``), its map drawn."""
    home = tmp_path_factory.mktemp("big_home")
    cache = home / "cache"
    big_model_folder(home / NAME, POINTS, stored=STORED, cache_root=cache)
    server = devserver.spawn(
        "app.py",
        log_path=home / "server.log",
        env={"VAEAPP_HOME": str(home), "VAEAPP_CACHE_DIR": str(cache)},
    )
    try:
        devserver.wait_ready(server, START_S, page=True)
        context = browser.new_context(viewport={"width": 1400, "height": 1100})
        page = context.new_page()
        page.errors = []
        page.vae_folder = home / NAME
        page.on("pageerror", lambda error: page.errors.append(str(error)))
        page.goto(f"{server.url}/?model={NAME}", timeout=LOAD_MS)
        page.wait_for_selector(".vae-explorer[data-drawn]", timeout=LOAD_MS)
        yield page
        context.close()
    finally:
        devserver.stop(server)


def test_the_big_model_is_drawn_by_the_webgl_map(big_page: Any) -> None:
    """All 200,000 points go to the WebGL map, with no script error."""
    assert big_page.get_attribute(".vae-explorer", "data-kind") == "regl-scatterplot"
    count = big_page.evaluate(
        "() => document.querySelector('.vae-explorer').__state.model.count"
    )
    assert count == POINTS
    assert big_page.errors == []


def test_hover_shows_a_real_image_beyond_the_stored_ones_from_the_cache(
    big_page: Any,
) -> None:
    """The real image of point 150,000 (past the 10,000 the folder stores)
    reaches the browser from the server's data cache: the model's decoding
    of its mean, as big_model made it, up to rounding."""
    from vaeapp.store.format import images_as_bytes
    from vaeapp.store.reading import load_model

    index = 150_000
    pixels = big_page.evaluate(
        """async (i) => {
            const st = document.querySelector('.vae-explorer').__state;
            const pending = st.realImage(i);
            return pending ? Array.from(await pending) : null;
        }""",
        index,
    )
    assert pixels is not None
    model = load_model(big_page.vae_folder)
    assert model.test_images.shape[0] == STORED
    expected = images_as_bytes(model.vae.decode(model.latent_mean[[index]]))[0]
    np.testing.assert_array_equal(np.rint(np.array(pixels) * 255), expected)
    assert big_page.errors == []


def test_a_box_selection_reaches_the_server_and_shows_its_panel(big_page: Any) -> None:
    """The server's count of the box's points equals the browser's, and the
    panel offers the mean, the CSV and the images."""
    big_page.click("[data-mode=box]")
    box = big_page.locator(".vae-gl-area").bounding_box()
    x, y = box["x"] + 0.3 * box["width"], box["y"] + 0.3 * box["height"]
    big_page.mouse.move(x, y)
    big_page.mouse.down()
    for k in range(1, 11):
        big_page.mouse.move(x + 0.04 * k * box["width"], y + 0.03 * k * box["height"])
    big_page.mouse.up()
    big_page.click("[data-mode=pan]")
    panel = big_page.get_by_text("Selection on the map")
    panel.wait_for(timeout=60_000)
    browser_count = int(big_page.get_attribute(".vae-map", "data-selected"))
    assert browser_count > 100
    summary = big_page.get_by_text(" images. digit-").first.text_content()
    server_count = int(summary.split(" images.")[0].replace(",", ""))
    # Points within float32 rounding of the box's edge may fall either way.
    assert abs(server_count - browser_count) <= 2
    for label in ("Move z to the selection's mean", "Download ids (CSV)"):
        assert big_page.get_by_role("button", name=label).count() == 1
    # The panel's paged grid of real images comes with its own render.
    big_page.locator("img").first.wait_for(timeout=60_000)


def test_search_flies_to_the_image_and_moves_z_to_it(big_page: Any) -> None:
    """Typing #1234 makes the server focus the map on it and move z there."""
    home_latents = big_page.evaluate(
        "() => Array.from(document.querySelector('.vae-explorer').__state.model.points"
        ".slice(2468, 2470))"
    )
    big_page.fill("[data-testid=vae-search]", "#1234")
    big_page.press("[data-testid=vae-search]", "Enter")
    big_page.wait_for_function(
        "() => document.querySelector('.vae-map').dataset.found === '1234'",
        timeout=60_000,
    )
    big_page.wait_for_timeout(800)  # the flight
    x0, x1, y0, y1 = big_page.evaluate(
        "() => document.querySelector('.vae-map').dataset.view.split(',').map(Number)"
    )
    x, y = home_latents
    assert x1 - x0 < 19.0 / 5 and x0 < x < x1 and y0 < y < y1
    marker = big_page.evaluate(
        "() => document.querySelector('.vae-explorer').__state.marker"
    )
    np.testing.assert_allclose(marker, home_latents, atol=1e-3)
    assert big_page.errors == []


def test_a_forged_selection_is_refused_with_a_message(big_page: Any) -> None:
    """A selection event with NaN in its polygon is ignored, and the page says why."""
    big_page.evaluate(
        """() => window.__vaeapp.trigger('select',
             { polygon: [[0, 0], [1, NaN], [1, 1]], classes: [] })"""
    )
    big_page.get_by_text("Ignored a selection from the map").wait_for(timeout=60_000)
