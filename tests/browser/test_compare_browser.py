"""Browser test of the compare view: the two maps follow each other's pointer.

Hovering a test image in the active model's map rings the same test image in
the other model's map and decodes it in that map's preview, in the browser;
a click marks it in both maps and shows its reconstruction by each model.
"""

from __future__ import annotations

import base64
import io
from pathlib import Path
from typing import Any

import numpy as np
import pytest

if not Path("/usr/bin/chromium").exists():
    pytest.skip("Chromium not found at /usr/bin/chromium", allow_module_level=True)
pytest.importorskip(
    "playwright.sync_api", reason="the playwright package is not installed"
)

from PIL import Image  # noqa: E402

from vaeapp.explore.images import image_array, to_uint8  # noqa: E402
from vaeapp.store.format import PRETRAINED_DIR  # noqa: E402
from vaeapp.store.reading import load_model  # noqa: E402

SETTLE_MS = 30_000
OTHER = "mnist-tutorial"
# Each keyed element's box has the class st-key-<key> (see vaeapp/ui/state.py).
A_MAP = ".st-key-compare_map_a .vae-explorer"
B_MAP = ".st-key-compare_map_b .vae-explorer"

# The page position of map point (x, y) on the map in root ``selector``,
# through the view it reports (data-view: x0, x1, y0, y1).
_JS_TO_PAGE = """([selector, x, y]) => {
  const root = document.querySelector(selector);
  const [x0, x1, y0, y1] = root.querySelector('.vae-map').dataset.view
    .split(',').map(Number);
  const box = root.querySelector('.vae-gl-area').getBoundingClientRect();
  return [box.left + (x - x0) / (x1 - x0) * box.width,
          box.top + (y1 - y) / (y1 - y0) * box.height];
}"""
# The page position of the link ring's centre on the map in root ``selector``.
_JS_RING_AT = """(selector) => {
  const root = document.querySelector(selector);
  const rings = root.querySelectorAll('.vae-gl-overlay circle[data-name="link"]');
  if (rings.length !== 1) return null;
  const box = root.querySelector('.vae-gl-area').getBoundingClientRect();
  return [box.left + Number(rings[0].getAttribute('cx')),
          box.top + Number(rings[0].getAttribute('cy'))];
}"""
_JS_POINTS = """(selector) => Array.from(
  document.querySelector(selector).__state.model.points)"""


def _isolated_point(points: np.ndarray) -> int:
    """A test point well inside the map whose nearest neighbour is far:
    the pointer over it can only be over it."""
    inside = np.flatnonzero(np.abs(points).max(axis=1) < 3.0)[:400]
    gaps = [np.sort(np.linalg.norm(points - points[i], axis=1))[1] for i in inside]
    return int(inside[int(np.argmax(gaps))])


def _open_compare(page: Any) -> None:
    page.get_by_text("Compare with another model").click()
    box = page.get_by_role("combobox", name="Compare with…")
    box.wait_for(timeout=SETTLE_MS)
    box.focus()
    page.keyboard.type(OTHER, delay=20)
    page.keyboard.press("ArrowDown")
    page.keyboard.press("Enter")
    for selector in (A_MAP, B_MAP):
        page.wait_for_selector(
            f'{selector}[data-decoder="ready"][data-drawn]', timeout=SETTLE_MS
        )


def test_hovering_and_clicking_a_test_image_marks_it_in_both_maps(page: Any) -> None:
    """Hovering and clicking a test image marks it in both maps."""
    other = load_model(PRETRAINED_DIR / OTHER)
    _open_compare(page)
    page.locator(A_MAP).scroll_into_view_if_needed()
    points = np.array(page.evaluate(_JS_POINTS, A_MAP), np.float32).reshape(-1, 2)
    index = _isolated_point(points)
    px, py = page.evaluate(_JS_TO_PAGE, [A_MAP, *points[index].tolist()])
    page.mouse.move(px - 30, py)
    page.mouse.move(px, py, steps=5)
    # Hover: the same test image ringed in both maps, with no round trip.
    for selector in (A_MAP, B_MAP):
        page.wait_for_function(
            "([s, i]) => document.querySelector(s).dataset.linked === String(i)",
            arg=[selector, index],
            timeout=SETTLE_MS,
        )
    # B's one ring is drawn at B's point of that image (B's own mean of it).
    ring = page.evaluate(_JS_RING_AT, B_MAP)
    assert ring is not None
    expected = page.evaluate(_JS_TO_PAGE, [B_MAP, *other.latent_mean[index].tolist()])
    np.testing.assert_allclose(ring, expected, atol=1.0)
    # B's preview decodes B's own point of that image: its reconstruction.
    live = page.locator(B_MAP).get_attribute("data-live-z")
    np.testing.assert_allclose(
        [float(v) for v in live.split(",")], other.latent_mean[index], atol=1e-5
    )
    # Click: marked in both maps (the cross at each model's mean of it), and
    # the image with both reconstructions under the maps.
    page.mouse.click(px, py)
    page.wait_for_function(
        "([s, z]) => document.querySelector(s).dataset.z === z",
        arg=[B_MAP, ",".join(f"{v:.3f}" for v in other.latent_mean[index])],
        timeout=SETTLE_MS,
    )
    picture = page.locator(f'img.vae-digit[alt^="{OTHER} ("]')
    picture.wait_for(timeout=SETTLE_MS)
    src = picture.get_attribute("src")
    shown = np.asarray(Image.open(io.BytesIO(base64.b64decode(src.split(",")[1]))))
    pixels = other.vae.decode(other.latent_mean[index][None])[0]
    np.testing.assert_array_equal(shown, to_uint8(image_array(pixels)))
    # The page's own explorer kept its z (the origin): the view never moves it.
    z = page.locator(".st-key-explorer .vae-explorer").get_attribute("data-z")
    assert {float(v) for v in z.split(",")} == {0.0}
    assert page.errors == []
