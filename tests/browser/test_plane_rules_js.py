"""vaeapp/web/plane_rules.js in real Chromium, without an app server: the
browser's rules between a stored (UMAP) plane and z give the server's
figures (vaeapp.explore.projection): map -> z as plane_click_to_z (the live
decode under the pointer is the z a click selects) and z -> map as
StoredPlane.coords (the marker that follows the sliders), on every point and
on evenly spaced anchors of a larger set."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import numpy as np
import pytest

from devtools.browser import browser_missing_reason
from vaeapp.explore import projection
from vaeapp.explore.projection import (
    NEIGHBOURS,
    PLACE_NEIGHBOURS,
    StoredPlane,
    plane_click_to_z,
)
from vaeapp.web import files

if browser_missing_reason():
    pytest.skip(browser_missing_reason(), allow_module_level=True)

# Both rules over a batch of queries, on a model as map_common.js holds one.
_JS_RULES = """([model, clicks, zs, radius, k, place]) => {
  const m = {
    latentDim: model.dim, points: Float32Array.from(model.points),
    anchorMeans: Float32Array.from(model.means),
    anchorRows: model.rows ? Uint32Array.from(model.rows) : null,
  };
  const anchors = planeAnchors(m);
  return {
    clicks: clicks.map((xy) => {
      const r = planeToZ(anchors, xy, radius, k);
      return { z: Array.from(r.z), image: r.image, rows: r.rows };
    }),
    places: zs.map((z) => zToPlane(anchors, z, place)),
  };
}"""


@pytest.fixture(scope="module")
def rules_page(browser: Any) -> Iterator[Any]:
    """A blank page holding plane_rules.js."""
    context = browser.new_context()
    page = context.new_page()
    page.set_content("<!doctype html><title>rules</title><body></body>")
    page.add_script_tag(content=files.read(files.PLANE_RULES_JS))
    try:
        yield page
    finally:
        context.close()


def _plane(count: int, dim: int, seed: int) -> StoredPlane:
    rng = np.random.default_rng(seed)
    points = rng.normal(0.0, 5.0, (count, 2)).astype(np.float32)
    means = rng.normal(0.0, 1.0, (count, dim)).astype(np.float32)
    return StoredPlane(points, means, "umap")


def _queries(plane: StoredPlane, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Map positions (on points, just beside them, anywhere) and latent
    points (stored means, anywhere)."""
    rng = np.random.default_rng(seed)
    on = plane.points[:10].astype(np.float64)
    beside = on + 0.3 * plane.pick_radius()
    anywhere = rng.uniform(-15.0, 15.0, (40, 2))
    zs = np.concatenate(
        [plane.means[:10], rng.normal(0.0, 1.2, (40, plane.means.shape[1]))]
    )
    return np.concatenate([on, beside, anywhere]), zs.astype(np.float64)


def _check(page: Any, plane: StoredPlane, rows: np.ndarray | None) -> None:
    clicks, zs = _queries(plane, 3)
    _, _, means = plane.anchors()
    model = {
        "dim": plane.means.shape[1],
        "points": plane.points.ravel().tolist(),
        "means": means.ravel().tolist(),
        "rows": None if rows is None else rows.tolist(),
    }
    radius = plane.pick_radius()
    got = page.evaluate(
        _JS_RULES,
        [model, clicks.tolist(), zs.tolist(), radius, NEIGHBOURS, PLACE_NEIGHBOURS],
    )
    for xy, js in zip(clicks, got["clicks"], strict=True):
        z, said = plane_click_to_z(plane, xy)
        np.testing.assert_allclose(js["z"], z, rtol=1e-9, atol=1e-12)
        if js["image"] >= 0:
            assert said == f"test image #{js['image']}"
        else:
            assert said.endswith(f"({', '.join(f'#{r}' for r in js['rows'])})")
    np.testing.assert_allclose(got["places"], plane.coords(zs), rtol=1e-9, atol=1e-12)


def test_the_browser_rules_equal_the_servers_on_every_point(rules_page: Any) -> None:
    """With every stored point an anchor, each click's z and each z's marker
    in the browser equal NumPy's, and name the same test images."""
    _check(rules_page, _plane(400, 7, 1), None)


def test_the_browser_rules_equal_the_servers_on_anchors(
    rules_page: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Above ANCHORS_MAX points both read the same evenly spaced anchors."""
    monkeypatch.setattr(projection, "ANCHORS_MAX", 60)
    plane = _plane(500, 5, 2)
    rows = projection.anchor_rows(500)
    assert rows is not None and rows.size == 60
    _check(rules_page, plane, rows)
