"""Browser test: the axis sweep and the interpolation are decoded and played
in the browser, and their GIF downloads hold the same frames."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest

if not Path("/usr/bin/chromium").exists():
    pytest.skip("Chromium not found at /usr/bin/chromium", allow_module_level=True)
pytest.importorskip(
    "playwright.sync_api", reason="the playwright package is not installed"
)

from PIL import Image, ImageSequence  # noqa: E402

SETTLE_MS = 30_000
PLAYER = ".vae-player"

# Every frame's canvas of the player holding `selector`, as grey values.
_JS_FRAMES = """(selector) => {
  const root = document.querySelector(selector);
  return [...root.querySelectorAll('canvas.vae-frame')].map((c) => {
    const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
    const grey = [];
    for (let i = 0; i < d.length; i += 4) grey.push(d[i]);
    return {w: c.width, h: c.height, grey};
  });
}"""


def _browser_frames(page: Any, selector: str) -> np.ndarray:
    frames = page.evaluate(_JS_FRAMES, selector)
    return np.array([np.reshape(f["grey"], (f["h"], f["w"])) for f in frames])


def _gif_frames(path: Path, size: int) -> np.ndarray:
    """The GIF's frames, shrunk back to ``size`` pixels a side (the download
    upscales each pixel to a square block)."""
    with Image.open(path) as gif:
        frames = [np.asarray(f.convert("L")) for f in ImageSequence.Iterator(gif)]
    scale = frames[0].shape[0] // size
    return np.array([f[::scale, ::scale] for f in frames])


def _plays(page: Any, selector: str) -> None:
    """The animation shows more than one frame over a second."""
    seen = set()
    for _ in range(10):
        seen.add(page.eval_on_selector(selector, "r => r.dataset.frame"))
        page.wait_for_timeout(130)
    assert len(seen) > 2, seen


def _download_matches(page: Any, panel: Any, selector: str, tmp_path: Path) -> None:
    """The GIF download's forward frames equal the browser's frames, to
    within one step of 255."""
    frames = _browser_frames(page, selector)
    with page.expect_download(timeout=SETTLE_MS) as info:
        panel.get_by_role("button", name="Download animation (GIF)").click()
    path = tmp_path / "download.gif"
    info.value.save_as(path)
    gif = _gif_frames(path, frames.shape[1])
    k = frames.shape[0]
    assert gif.shape[0] == 2 * k - 2  # forward and back, the ends once
    difference = np.abs(gif[:k].astype(int) - frames.astype(int))
    assert difference.max() <= 1
    assert frames.std() > 5


def test_a_sweep_plays_in_the_browser_and_downloads_its_frames(
    page: Any, tmp_path: Path
) -> None:
    """The sweep tab plays 25 frames decoded here; its GIF has them."""
    page.get_by_role("tab", name="Sweep an axis").click()
    panel = page.get_by_role("tabpanel", name="Sweep an axis")
    selector = f'{PLAYER}[data-playing="true"][data-frames="25"]'
    page.wait_for_selector(selector, state="attached", timeout=SETTLE_MS)
    _plays(page, selector)
    _download_matches(page, panel, selector, tmp_path)
    assert page.errors == []


def test_an_interpolation_strip_and_animation_come_from_the_browser(
    page: Any, tmp_path: Path
) -> None:
    """Between two test digits: a strip of 10 frames decoded here, then an
    animation of them whose GIF holds the same frames."""
    page.get_by_role("tab", name="Interpolate").click()
    panel = page.get_by_role("tabpanel", name="Interpolate")
    panel.get_by_text("two test digits").click()
    strip = f'{PLAYER}.vae-strip[data-frames="10"]'
    page.wait_for_selector(strip, state="attached", timeout=SETTLE_MS)
    still = _browser_frames(page, strip)
    assert still.std() > 5
    panel.get_by_text("Play as an animated GIF").click()
    selector = f'{PLAYER}[data-playing="true"][data-frames="10"]'
    page.wait_for_selector(selector, state="attached", timeout=SETTLE_MS)
    _plays(page, selector)
    np.testing.assert_array_equal(_browser_frames(page, selector), still)
    _download_matches(page, panel, selector, tmp_path)
    assert page.errors == []
