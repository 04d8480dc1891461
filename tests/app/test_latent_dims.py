"""AppTest tests of a model with more than two latent dimensions."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from app_helpers import explorer_data, move_slider, sliders_data
from streamlit.testing.v1 import AppTest

from vaeapp.store.reading import load_model
from vaeapp.ui.state import K

ROOT = Path(__file__).resolve().parents[2]


def test_five_dimensional_model_gets_sliders_and_chosen_map_dims(
    five_d_model: Path,
) -> None:
    """A 5-D model has one slider per dimension and the map shows chosen dims."""
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
    at.session_state[K.ACTIVE_MODEL] = str(five_d_model)
    at.run()
    assert not at.exception
    assert len(sliders_data(at)["z"]) == 5
    # It opens on the PCA plane, its most readable; the boxes then pick the
    # grid's dimensions. Two latent dimensions are a choice away.
    opened = explorer_data(at)
    assert opened["axis_titles"][0].startswith("PC1 (")
    assert at.selectbox(key="map_x").label == "Grid x"
    at.radio(key="map_view").set_value("dimensions").run()
    assert at.selectbox(key="map_x").label == "x dimension"
    at.selectbox(key="map_x").set_value(2).run()
    at.selectbox(key="map_y").set_value(4).run()
    data = explorer_data(at)
    assert data["axis_titles"] == ["z3", "z5"]
    assert data["u"] == [0, 0, 1, 0, 0] and data["v"] == [0, 0, 0, 0, 1]
    assert data["assets"]["points"], "new dimensions resend the map's points"
    assert len(data["z"]) == 5
    move_slider(at, 4, 1.25)
    assert explorer_data(at)["z"][4] == 1.25
    # PCA view: the plane of the two main directions of the encoded test set.
    at.radio(key="map_view").set_value("pca").run()
    assert not at.exception
    data = explorer_data(at)
    assert data["axis_titles"][0].startswith("PC1 (")
    u, v = np.array(data["u"]), np.array(data["v"])
    assert u @ u == pytest.approx(1) and v @ v == pytest.approx(1)
    assert u @ v == pytest.approx(0, abs=1e-9)
    assets = data.get("assets") or opened["assets"]  # sent once per plane
    served = ROOT / "static" / assets["files"]["points"].removeprefix("app/static/")
    offset, count = assets["points"]
    points = np.frombuffer(served.read_bytes(), "<f4", count=count, offset=offset)
    np.testing.assert_allclose(points.reshape(-1, 2).mean(axis=0), 0, atol=1e-4)
    z = np.array(data["z"])
    mean = load_model(five_d_model).latent_mean.astype(np.float64).mean(0)
    np.testing.assert_allclose(data["marker"], [(z - mean) @ u, (z - mean) @ v])
