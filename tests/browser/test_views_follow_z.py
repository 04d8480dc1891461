"""Browser test: an open tool that depends on z follows a slider move at once."""

from __future__ import annotations

import io
import re
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

from vaeapp.data.sources import CLASS_NAMES  # noqa: E402
from vaeapp.explore.analysis import nearest_neighbours  # noqa: E402
from vaeapp.store.listing import best_pretrained  # noqa: E402
from vaeapp.store.reading import load_model  # noqa: E402
from vaeapp.ui.tools.neighbours import NEIGHBOURS  # noqa: E402
from vaeapp.ui.tools.shared import strip  # noqa: E402

SLIDER = '.vae-z-slider input[type="range"][aria-label="{}"]'
SETTLE_MS = 30_000
STRIP_CAPTION = "The nearest test images, nearest first"
PREDICTED = re.compile(r"Predicted class at z by its \d+ nearest test images: (\S+)")

# The src of the neighbours strip: the st.image whose caption names it.
_JS_STRIP_SRC = """(caption) => {
  for (const box of document.querySelectorAll('[data-testid="stImage"]')) {
    if (box.innerText.includes(caption)) return box.querySelector('img').src;
  }
  return null;
}"""


def _strip_pixels(page: Any) -> np.ndarray:
    src = page.evaluate(_JS_STRIP_SRC, STRIP_CAPTION)
    body = page.request.get(src).body()
    return np.asarray(Image.open(io.BytesIO(body)).convert("L"))


def _predicted(page: Any) -> str:
    text = page.get_by_text(PREDICTED).inner_text()
    return PREDICTED.search(text).group(1)


def _z(page: Any) -> np.ndarray:
    text = page.locator(".vae-explorer").get_attribute("data-z")
    return np.array([float(v) for v in text.split(",")], np.float32)


def test_neighbours_tab_follows_a_slider_move(page: Any) -> None:
    """With Neighbours open, moving z1 shows the new z's neighbours and class."""
    model = load_model(best_pretrained())
    names = CLASS_NAMES[model.record.dataset]
    page.get_by_role("tab", name="Neighbours").click()
    page.wait_for_function(_JS_STRIP_SRC, arg=STRIP_CAPTION, timeout=SETTLE_MS)
    before = page.evaluate(_JS_STRIP_SRC, STRIP_CAPTION)
    slider = page.locator(SLIDER.format("z1"))
    edge = model.z_limit  # the sliders span the model's range of z
    key, target = (
        ("End", edge) if float(slider.input_value()) < edge else ("Home", -edge)
    )
    slider.focus()
    page.keyboard.press(key)
    page.wait_for_function(
        "(x) => Math.abs(Number(document.querySelector('.vae-explorer')"
        ".dataset.z.split(',')[0]) - x) < 1e-6",
        arg=target,
        timeout=SETTLE_MS,
    )
    page.wait_for_function(
        "([caption, before]) => { const box = [...document.querySelectorAll("
        "'[data-testid=\"stImage\"]')].find(b => b.innerText.includes(caption));"
        " return box && box.querySelector('img').src !== before; }",
        arg=[STRIP_CAPTION, before],
        timeout=SETTLE_MS,
    )
    z = _z(page)
    index, _, predicted = nearest_neighbours(
        model.latent_mean, model.labels, z, k=NEIGHBOURS
    )
    expected = strip(model.test_images[index] / np.float32(255), model.image_shape)
    np.testing.assert_array_equal(_strip_pixels(page), expected)
    assert _predicted(page) == names[predicted]
