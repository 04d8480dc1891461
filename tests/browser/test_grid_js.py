"""vaeapp/web/grid_picture.js in real Chromium, without an app server: the
grid it decodes equals NumPy's (vaeapp/explore/manifold.py) to within
float16 rounding, for a dense, a conv and a colour model with random weights,
on the server's axes and on the axes it computes itself when n, q or the
spacing change in the browser."""

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

from devtools.weights import write_random_weights  # noqa: E402
from vaeapp.core.config import ModelConfig  # noqa: E402
from vaeapp.explore.manifold import GRID_N_MAX, SPACINGS, grid_axes, manifold  # noqa: E402
from vaeapp.inference.numpy_vae import NumpyVAE, load_numpy_vae  # noqa: E402
from vaeapp.ui.components.grid_picture import (  # noqa: E402
    GRID_BROWSER_MAX_MS,
    MODULE_JS,
)
from vaeapp.web.assets import as_browser_decodes, b64, pack_decoder  # noqa: E402
from vaeapp.web.view_settings import Q_MAX, Q_MIN, Q_STEP  # noqa: E402

MODELS = {
    "dense": ModelConfig(hidden=(64, 32), latent_dim=3),
    "conv": ModelConfig(
        architecture="conv", filters=(8, 16), hidden=(32,), latent_dim=2
    ),
    "colour": ModelConfig(hidden=(48,), latent_dim=2, image_shape=(16, 16, 3)),
}

# Mount the module's component in a div with a fake component object; the
# triggers it sets are kept in window.__triggers.
_JS_MOUNT = """async ([source, data]) => {
  if (!window.__grid) {
    const url = URL.createObjectURL(new Blob([source], {type: 'text/javascript'}));
    window.__grid = await import(url);
  }
  document.body.replaceChildren();
  const parentElement = document.createElement('div');
  document.body.append(parentElement);
  window.__triggers = [];
  window.__grid.default({data: [data], parentElement,
    setTriggerValue: (name, value) => window.__triggers.push([name, value])});
}"""
_JS_PIXELS = """(settings) => {
  const c = document.querySelector('canvas.vae-grid');
  if (c.dataset.by !== 'browser' || c.dataset.settings !== settings) return null;
  const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
  return {w: c.width, h: c.height, pixels: Array.from(d)};
}"""


def _model(folder: Path, config: ModelConfig, seed: int) -> NumpyVAE:
    path = folder / f"random-{seed}.weights.h5"
    write_random_weights(path, config, np.random.default_rng(seed))
    return load_numpy_vae(path, config)


@pytest.fixture(scope="module")
def blank_page(browser: Any) -> Iterator[Any]:
    """A blank page; ``page.errors`` collects uncaught JavaScript errors."""
    context = browser.new_context()
    page = context.new_page()
    page.errors = []
    page.on("pageerror", lambda error: page.errors.append(str(error)))
    page.set_content("<!doctype html><title>grid</title><body></body>")
    try:
        yield page
    finally:
        context.close()


def _data(vae: NumpyVAE, config: ModelConfig, means: np.ndarray, base: list) -> dict:
    """What grid_picture.grid_picture sends, for n = 6, q = 0.05, quantiles."""
    xs, ys = grid_axes(6, 0.05, "quantile")
    columns = np.concatenate([np.sort(means[:, 0]), np.sort(means[:, 1])])
    return {
        "token": f"test-{config.architecture}-{config.image_shape}",
        "n": 6,
        "q": 0.05,
        "spacing": "quantile",
        "xs": xs.tolist(),
        "ys": ys.tolist(),
        "dims": [0, 1],
        "base": base,
        "n_max": GRID_N_MAX,
        "q_min": Q_MIN,
        "q_max": Q_MAX,
        "q_step": Q_STEP,
        "spacings": [[s, s] for s in SPACINGS],
        "slow_ms": GRID_BROWSER_MAX_MS,
        "columns_key": f"cols-{config.architecture}-{config.image_shape}",
        "columns": {"inline": b64(columns), "count": means.shape[0]},
        "assets": {
            "layers": pack_decoder(vae),
            "image_shape": list(config.image_shape),
        },
    }


def _grid(page: Any, settings: str) -> np.ndarray:
    page.wait_for_function(_JS_PIXELS, arg=settings, timeout=30_000)
    shot = page.evaluate(_JS_PIXELS, settings)
    rgba = np.asarray(shot["pixels"], np.int16).reshape(shot["h"], shot["w"], 4)
    return rgba[:, :, :3]


def _assert_close(got: np.ndarray, want: np.ndarray) -> None:
    """Grey pictures ``(H, W)`` or colour ``(H, W, 3)`` against the canvas's
    RGB: within one step of 255 (the canvas rounds float32 values)."""
    if want.ndim == 2:
        want = np.repeat(want[:, :, None], 3, axis=2)
    assert got.shape == want.shape
    assert np.abs(got - want.astype(np.int16)).max() <= 1
    assert want.std() > 5  # a grid of images that really vary


@pytest.mark.parametrize("kind", MODELS)
def test_browser_grid_equals_numpy(blank_page: Any, tmp_path: Path, kind: str) -> None:
    """The grid drawn in the browser equals manifold() with the float16
    decoder, on the server's axes, and after n, q and the spacing change in
    the browser (its own axes), with the settings sent once they settle."""
    config = MODELS[kind]
    vae = _model(tmp_path, config, seed=3)
    browser_vae = as_browser_decodes(vae)
    rng = np.random.default_rng(4)
    means = rng.normal(0, 1.3, (500, config.latent_dim)).astype(np.float32)
    base = rng.normal(0, 1, config.latent_dim).astype(np.float32)
    base_list = [float(v) for v in base]
    shape = config.image_shape
    blank_page.evaluate(_JS_MOUNT, [MODULE_JS, _data(vae, config, means, base_list)])
    want = manifold(browser_vae.decode, 6, 0.05, "quantile", base, (0, 1), shape)
    _assert_close(_grid(blank_page, "6|0.05|quantile"), want)
    # The controls: n to 9, q to 0.12, then the data spacing; each redraws here.
    n = blank_page.locator('input[aria-label="Grid size n"]')
    n.fill("9")
    q = blank_page.locator('input[aria-label="Quantile q"]')
    q.fill("0.12")
    want = manifold(browser_vae.decode, 9, 0.12, "quantile", base, (0, 1), shape)
    _assert_close(_grid(blank_page, "9|0.12|quantile"), want)
    blank_page.get_by_label("data").check()
    want = manifold(browser_vae.decode, 9, 0.12, "data", base, (0, 1), shape, means)
    _assert_close(_grid(blank_page, "9|0.12|data"), want)
    blank_page.get_by_label("linear").check()
    want = manifold(browser_vae.decode, 9, 0.12, "linear", base, (0, 1), shape)
    _assert_close(_grid(blank_page, "9|0.12|linear"), want)
    blank_page.wait_for_function("() => window.__triggers.length > 0")
    blank_page.wait_for_timeout(400)
    triggers = blank_page.evaluate("() => window.__triggers")
    # One per settled change (the test's pixel reads outlast the 250 ms).
    assert {name for name, _ in triggers} == {"settings"}
    assert triggers[-1] == ["settings", {"n": 9, "q": 0.12, "spacing": "linear"}]
    assert blank_page.errors == []


def test_browser_asks_for_the_server_grid_past_the_servers_limit(
    blank_page: Any, tmp_path: Path
) -> None:
    """A first grid slower than the server's slow_ms sends "slow" once and
    says so on the page; within it, no "slow"."""
    config = MODELS["dense"]
    vae = _model(tmp_path, config, seed=5)
    means = np.random.default_rng(6).normal(0, 1, (50, 3)).astype(np.float32)
    for slow_ms, slow in ((GRID_BROWSER_MAX_MS, False), (0, True)):
        data = _data(vae, config, means, [0.0, 0.0, 0.0])
        data["token"] += f"-{slow_ms}"  # a model not yet timed
        data["slow_ms"] = slow_ms
        blank_page.evaluate(_JS_MOUNT, [MODULE_JS, data])
        blank_page.wait_for_selector("canvas.vae-grid[data-by]", state="attached")
        triggers = blank_page.evaluate("() => window.__triggers")
        assert (["slow", True] in triggers) == slow
        note = blank_page.locator(".vae-grid-note").text_content()
        assert ("too slowly" in note) == slow
    assert blank_page.errors == []
