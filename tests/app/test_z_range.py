"""AppTest: a model whose encoded test set reaches ±7 is shown whole — the
map, the sliders, z from the URL and the grid all span where its data lie."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest
from app_helpers import component_data, explorer_data, new_app, shown, sliders_data
from streamlit.testing.v1 import AppTest

from vaeapp.core.latent import Z_LIMIT
from vaeapp.explore.manifold import DATA_SPACING
from vaeapp.store.format import LATENTS_FILE
from vaeapp.store.listing import best_pretrained
from vaeapp.store.reading import load_model
from vaeapp.ui.state import K

REACH = 7.0  # the largest |mean| of the crafted model's encoded test set
LIMIT = 8.0  # 7 widened by a tenth, rounded up to a multiple of 0.5


@pytest.fixture
def wide_model(isolated_home: Path) -> Path:
    """The shipped 2-D model with its stored means scaled to reach ±7."""
    folder = Path(shutil.copytree(best_pretrained(), isolated_home / "wide"))
    with np.load(folder / LATENTS_FILE) as stored:
        arrays = dict(stored)
    mean = arrays["mean"].astype(np.float64)
    arrays["mean"] = (mean * REACH / np.abs(mean).max()).astype(np.float32)
    np.savez(folder / LATENTS_FILE, **arrays)
    return folder


def _open(folder: Path, z: str | None = None) -> AppTest:
    at = new_app()
    at.session_state[K.ACTIVE_MODEL] = str(folder)
    if z is not None:
        at.query_params["z"] = z
    return at.run()


def test_the_model_range_covers_its_encoded_test_set(wide_model: Path) -> None:
    """The range is derived from the stored means: ±8 for means reaching ±7,
    the prior's ±4 for a model whose means stay inside it."""
    model = load_model(wide_model)
    assert model.z_limit == LIMIT
    assert np.abs(model.latent_mean).max() <= model.z_limit
    assert Z_LIMIT == 4.0


def test_map_and_sliders_span_every_test_point(wide_model: Path) -> None:
    """The map's axes and the sliders run over ±8, so no test point is off
    the map, and nothing says points are hidden."""
    at = _open(wide_model)
    assert not at.exception
    assert explorer_data(at)["range"] == [-LIMIT, LIMIT]
    assert sliders_data(at)["limit"] == LIMIT
    assert not any("not drawn" in c.value for c in at.caption)


def test_a_url_z_beyond_the_prior_but_within_the_data_is_kept(
    wide_model: Path,
) -> None:
    """``?z=7.5,-6`` is a point where this model's data lie: kept as given;
    ``?z=9,0`` is clamped to the model's range, with a message."""
    at = _open(wide_model, "7.5,-6")
    assert at.session_state[K.Z] == [7.5, -6.0]
    assert not at.warning
    at = _open(wide_model, "9,0")
    assert at.session_state[K.Z] == [LIMIT, 0.0]
    assert any("outside +-8" in shown(w.value) for w in at.warning)


def test_the_grid_can_span_the_data_quantiles(wide_model: Path) -> None:
    """With data spacing the grid's axes are the encoded test set's
    quantiles, and the caption says so."""
    at = _open(wide_model)
    at.session_state[K.GRID_SPACING] = DATA_SPACING
    at.session_state[K.GRID_SHOW_EXTENT] = True
    at.run()
    assert not at.exception
    model = load_model(wide_model)
    q = at.session_state[K.GRID_Q]
    x0, x1, y0, y1 = explorer_data(at)["grid_rect"]
    low, high = np.quantile(model.latent_mean[:, 0], [q, 1 - q])
    assert (x0, x1) == pytest.approx((low, high), rel=1e-5)
    low, high = np.quantile(model.latent_mean[:, 1], [q, 1 - q])
    assert (y0, y1) == pytest.approx((low, high), rel=1e-5)
    assert any("data quantiles" in c.value for c in at.caption)
    assert component_data(at, "vaeapp.grid_click")[0]["n"] >= 2
