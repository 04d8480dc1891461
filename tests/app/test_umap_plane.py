"""AppTest tests of the map's stored UMAP plane (the shipped mnist-20d)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from app_helpers import component_data, explorer_data, send_event, shown, sliders_data
from streamlit.testing.v1 import AppTest

from vaeapp.explore.projection import (
    CLICK_NEIGHBOURS,
    NEIGHBOURS,
    PLACE_NEIGHBOURS,
    stored_plane,
)
from vaeapp.store.reading import load_model
from vaeapp.ui.state import K

ROOT = Path(__file__).resolve().parents[2]
MODEL = ROOT / "vaeapp" / "pretrained" / "mnist-20d"
OTHER = ROOT / "vaeapp" / "pretrained" / "mnist-tutorial"
EXPLORER = "vaeapp.latent_explorer"


def _on_umap() -> AppTest:
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
    at.session_state[K.ACTIVE_MODEL] = str(MODEL)
    at.run()
    assert not at.exception
    assert "UMAP (stored)" in at.radio(key="map_view").options
    at.radio(key="map_view").set_value("umap").run()
    assert not at.exception
    return at


def _captions(at: AppTest) -> str:
    return " ".join(shown(c.value) for c in at.caption)


def test_umap_plane_is_offered_and_drawn_from_the_stored_points() -> None:
    """The plane picker offers the stored UMAP plane; the map then shows its points."""
    at = _on_umap()
    data = explorer_data(at)
    assert data["axis_titles"] == ["UMAP 1", "UMAP 2"]
    assert data["nonlinear"] is True
    # Both axes span the stored points, closely (not the model's +-z_limit).
    stored = load_model(MODEL).planes["umap"]
    low, high = data["range"]
    assert low < stored.min() and high > stored.max()
    assert (high - low) < 1.2 * (stored.max() - stored.min())
    assets = data["assets"]
    served = ROOT / "static" / assets["files"]["points"].removeprefix("app/static/")
    offset, count = assets["points"]
    points = np.frombuffer(served.read_bytes(), "<f4", count=count, offset=offset)
    np.testing.assert_array_equal(points.reshape(-1, 2), stored.astype(np.float32))


def test_click_on_a_umap_point_selects_its_z_and_says_so() -> None:
    """A click on UMAP point i moves z to its mean; the page names the image."""
    at = _on_umap()
    model = load_model(MODEL)
    i = 1234
    x, y = (float(v) for v in model.planes["umap"][i])
    send_event(at, EXPLORER, "commit", [x, y, i])
    assert not at.exception
    z = np.array(explorer_data(at)["z"])
    np.testing.assert_allclose(z, model.latent_mean[i], atol=1e-6)
    # The cross marks that point itself.
    np.testing.assert_allclose(explorer_data(at)["marker"], [x, y], atol=1e-6)
    assert f"selected the z of test image #{i}." in _captions(at)


def test_click_on_empty_umap_space_selects_its_neighbours_mean() -> None:
    """A click in empty space selects the nearest points' distance-weighted
    mean z (weights 1/d^2), and lists them."""
    at = _on_umap()
    model = load_model(MODEL)
    points = model.planes["umap"].astype(np.float64)
    # Beyond the plane's right edge, level with its middle: no point is there.
    xy = np.array([points[:, 0].max() + 0.5, float(np.median(points[:, 1]))])
    send_event(at, EXPLORER, "commit", xy.tolist())
    assert not at.exception
    nearest = np.argsort(np.square(points - xy).sum(1), kind="stable")
    rows = nearest[:CLICK_NEIGHBOURS]
    weights = 1.0 / np.square(points[rows] - xy).sum(1)
    expected = weights @ model.latent_mean[rows].astype(np.float64) / weights.sum()
    z = np.array(explorer_data(at)["z"])
    np.testing.assert_allclose(z, expected, atol=1e-5)
    caption = _captions(at)
    assert f"weighted mean of the {CLICK_NEIGHBOURS} nearest test images" in caption
    assert all(f"#{int(r)}" in caption for r in rows)
    # The sliders (the browser's z) follow the server's answer.
    assert sliders_data(at)["z"] == explorer_data(at)["z"]


def test_the_umap_map_sends_the_rules_what_they_read() -> None:
    """The browser's rules (plane_rules.js) get the server's: every point's
    latent mean beside its map point, the pick radius and the number of
    neighbours."""
    at = _on_umap()
    data = explorer_data(at)
    model = load_model(MODEL)
    plane = stored_plane(model, "umap")
    assert data["pick_radius"] == plane.pick_radius()
    assert data["neighbours"] == NEIGHBOURS
    assert data["place_neighbours"] == PLACE_NEIGHBOURS
    assets = data["assets"]
    served = ROOT / "static" / assets["files"]["points"].removeprefix("app/static/")
    offset, count = assets["anchor_means"]
    means = np.frombuffer(served.read_bytes(), "<f4", count=count, offset=offset)
    np.testing.assert_array_equal(means.reshape(model.latent_mean.shape), plane.means)
    assert "anchor_rows" not in assets  # 10,000 points: every one is an anchor


def test_the_compare_view_shows_the_umap_plane_too() -> None:
    """With the UMAP plane picked, the compare view's map of the active model
    is that plane (no PCA in its place); a click on test image 7 in the other
    map marks image 7 there at its own UMAP point."""
    at = _on_umap()
    at.session_state[K.COMPARE_OPEN] = True
    at.run()
    at.selectbox(key=K.COMPARE_PICK).set_value(str(OTHER)).run()
    assert not at.exception
    shown_a = component_data(at, EXPLORER, K.COMPARE_MAP_A)[0]
    assert shown_a["axis_titles"] == ["UMAP 1", "UMAP 2"]
    assert shown_a["nonlinear"] is True
    x, y = load_model(OTHER).latent_mean[7].tolist()
    send_event(at, EXPLORER, "commit", [x, y, 7], key=K.COMPARE_MAP_B)
    assert not at.exception
    shown_a = component_data(at, EXPLORER, K.COMPARE_MAP_A)[0]
    assert shown_a["mark"] == 7 and shown_a["ellipses"] == []
    np.testing.assert_allclose(
        shown_a["marker"], load_model(MODEL).planes["umap"][7], rtol=1e-6
    )
