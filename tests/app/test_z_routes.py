"""Every route that moves z redraws every view that depends on z, and only those.

Routes: a slider, a click on the map, a release on a test point, a grid cell,
the URL's ``?z=``, and a tool (the own digit's "Move z to this picture"). Views:
the selected digit, the map's marker, the neighbours, the interpolation path's
end, the inspection panel, and the grid of a model with more than two latent
dimensions.
"""

from __future__ import annotations

import base64
import io
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
from app_helpers import (
    component_data,
    explorer_data,
    move_slider,
    new_app,
    open_tool,
    recorded_runs,
    send_event,
    sliders_data,
)
from PIL import Image
from streamlit.testing.v1 import AppTest

from vaeapp.explore.analysis import nearest_neighbours
from vaeapp.explore.manifold import grid_axis, manifold
from vaeapp.store.listing import best_pretrained
from vaeapp.store.reading import load_model
from vaeapp.store.records import LoadedModel
from vaeapp.ui.state import K, Views

ROOT = Path(__file__).resolve().parents[2]
EXPLORER, GRID = "vaeapp.latent_explorer", "vaeapp.grid_click"
Z_VIEWS_2D = sorted([Views.EXPLORER, Views.TOOLS])


@pytest.fixture(scope="module")
def shipped() -> LoadedModel:
    return load_model(best_pretrained())


def _digit_z(at: AppTest) -> list[float]:
    """The z the selected digit was decoded at, as the picture's data says."""
    return [float(v) for v in sliders_data(at)["z"]]


def _by_slider(at: AppTest, model: LoadedModel) -> list[float]:
    move_slider(at, 0, 2.5)
    return [2.5, 0.0]


def _by_map_click(at: AppTest, model: LoadedModel) -> list[float]:
    send_event(at, EXPLORER, "commit", [-1.25, 3.0])
    return [-1.25, 3.0]


def _by_test_point(at: AppTest, model: LoadedModel) -> list[float]:
    send_event(at, EXPLORER, "commit", [0.0, 0.0, 42])
    return model.latent_mean[42].tolist()


def _by_grid_cell(at: AppTest, model: LoadedModel) -> list[float]:
    n = at.session_state[K.GRID_N]
    axis = grid_axis(n, at.session_state[K.GRID_Q])
    send_event(at, GRID, "cell", [0, n - 1])  # top right: largest x and y
    return [float(axis[-1]), float(axis[-1])]


ROUTES: dict[str, Callable[[AppTest, LoadedModel], list[float]]] = {
    "slider": _by_slider,
    "map click": _by_map_click,
    "release on a test point": _by_test_point,
    "grid cell": _by_grid_cell,
}


@pytest.mark.parametrize("route", ROUTES)
def test_each_route_moves_digit_marker_and_sliders(
    route: str, shipped: LoadedModel
) -> None:
    """The selected digit, the map's marker and the sliders show the new z."""
    at = new_app().run()
    target = ROUTES[route](at, shipped)
    assert not at.exception
    np.testing.assert_allclose(at.session_state[K.Z], target, atol=1e-6)
    np.testing.assert_allclose(_digit_z(at), target, atol=1e-4)
    np.testing.assert_allclose(explorer_data(at)["marker"], target, atol=1e-6)
    np.testing.assert_allclose(sliders_data(at)["z"], target, atol=1e-6)


@pytest.mark.parametrize("route", ROUTES)
def test_each_route_updates_the_open_neighbours_tab(
    route: str, shipped: LoadedModel
) -> None:
    """With Neighbours open, the table and predicted class follow the new z."""
    at = open_tool(new_app().run(), "Neighbours")
    before = at.dataframe[0].value["test #"].tolist()
    target = ROUTES[route](at, shipped)
    index, _, _ = nearest_neighbours(
        shipped.latent_mean, shipped.labels, np.asarray(target, np.float32)
    )
    shown = at.dataframe[0].value["test #"].tolist()
    assert shown == index.tolist()
    assert shown != before


@pytest.mark.parametrize("route", ROUTES)
def test_each_route_moves_the_shown_interpolation_path_end(
    route: str, shipped: LoadedModel
) -> None:
    """A path shown on the map keeps ending at z when z moves."""
    at = open_tool(new_app().run(), "Interpolate")
    at.button(key="save_a").click().run()
    at.button(key="show_path").click().run()
    at.run()  # a full run: the grid is in the test's element tree again
    assert explorer_data(at)["path"][-1] == [0.0, 0.0]
    target = ROUTES[route](at, shipped)
    path = explorer_data(at)["path"]
    np.testing.assert_allclose(path[-1], target, atol=1e-6)
    np.testing.assert_allclose(path[0], [0.0, 0.0], atol=1e-6)


def test_release_on_a_test_point_opens_its_inspection(shipped: LoadedModel) -> None:
    """A release on test point i moves z to its mean and inspects digit i."""
    at = new_app().run()
    send_event(at, EXPLORER, "commit", [0.0, 0.0, 42])
    assert at.session_state[K.INSPECT] == 42
    assert any("Test image #42" in m.value for m in at.markdown)
    send_event(at, EXPLORER, "commit", [0.0, 0.0, 43])
    assert any("Test image #43" in m.value for m in at.markdown)


def test_url_z_starts_every_view_there(shipped: LoadedModel) -> None:
    """``?z=`` sets the digit, marker, sliders and neighbours at the first run."""
    at = new_app()
    at.query_params["z"] = "1.5,-0.5"
    at.session_state[K.TOOLS_TAB] = "Neighbours"
    at.run()
    assert _digit_z(at) == [1.5, -0.5]
    assert explorer_data(at)["marker"] == [1.5, -0.5]
    index, _, _ = nearest_neighbours(
        shipped.latent_mean, shipped.labels, np.array([1.5, -0.5], np.float32)
    )
    assert at.dataframe[0].value["test #"].tolist() == index.tolist()


def test_own_digit_tool_moves_z_to_its_mean(shipped: LoadedModel) -> None:
    """ "Move z to this picture" puts the selected digit and marker at its mean:
    the folder's q (refined, for mnist-wide), so a test image goes to its own
    point on the map."""
    at = new_app().run()
    digit = shipped.test_images[5] / np.float32(255)
    at.session_state[K.OWN_DIGIT] = digit
    open_tool(at, "Encode your image")
    at.button(key="own_go").click().run()
    mean = shipped.encode(digit[None])[0][0]
    np.testing.assert_allclose(mean, shipped.latent_mean[5], atol=1e-4)
    np.testing.assert_allclose(_digit_z(at), mean, atol=1e-4)
    np.testing.assert_allclose(explorer_data(at)["marker"], mean, atol=1e-5)


@pytest.mark.parametrize("route", ["slider", "map click", "grid cell"])
def test_a_move_of_z_is_one_run_of_the_views_of_z(
    route: str, shipped: LoadedModel, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Moving z runs the explorer and tools fragments once, not the whole app."""
    at = open_tool(new_app().run(), "Neighbours")
    with recorded_runs(at, monkeypatch) as runs:
        ROUTES[route](at, shipped)
    assert runs == [Z_VIEWS_2D]


def test_overlays_redraw_map_and_tools_only(monkeypatch: pytest.MonkeyPatch) -> None:
    """Drawing prior samples reruns the tools and the map, nothing else."""
    at = open_tool(new_app().run(), "Sample")
    with recorded_runs(at, monkeypatch) as runs:
        at.button(key="draw").click().run()
    assert runs == [Z_VIEWS_2D]
    assert len(explorer_data(at)["samples"]) == at.slider(key=K.SAMPLE_COUNT).value


def test_grid_settings_rerun_only_the_grid(monkeypatch: pytest.MonkeyPatch) -> None:
    """Changing n reruns the grid alone while its extent is not on the map."""
    at = new_app().run()
    with recorded_runs(at, monkeypatch) as runs:
        send_event(at, GRID, "settings", {"n": 6, "q": 0.05, "spacing": "quantile"})
    assert runs == [[Views.GRID]]
    data = component_data(at, GRID)[0]
    assert data["n"] == 6
    assert data["xs"] == pytest.approx(grid_axis(6, 0.05).tolist())
    assert "src" not in data, "the browser draws the grid"


def _grid_pixels(at: AppTest) -> np.ndarray:
    """The server's picture of the grid (sent once the browser said it
    decodes too slowly)."""
    src = component_data(at, GRID)[0]["src"]
    data = base64.b64decode(src.split(",", 1)[1])
    return np.asarray(Image.open(io.BytesIO(data)))


@pytest.mark.parametrize("route", ["slider", "map click", "grid cell"])
def test_grid_of_a_five_d_model_follows_z(
    route: str, five_d_model: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The grid holds the other dimensions at z, so it is redrawn when z moves."""
    model = load_model(five_d_model)
    at = new_app()
    at.session_state[K.ACTIVE_MODEL] = str(five_d_model)
    at.run()
    send_event(at, GRID, "slow", True)  # the server draws: its pixels to compare
    at.run()  # a full run: the sliders are in the test's element tree again
    move_slider(at, 3, 3.0)
    at.run()  # a full run: the grid is in the test's element tree again
    before = _grid_pixels(at)
    with recorded_runs(at, monkeypatch) as runs:
        if route == "slider":
            move_slider(at, 4, -3.0)
        elif route == "map click":
            send_event(at, EXPLORER, "commit", [1.0, 1.0])
        else:
            send_event(at, GRID, "cell", [0, 0])
    assert runs == [sorted([Views.EXPLORER, Views.GRID, Views.TOOLS])]
    z = np.asarray(at.session_state[K.Z], np.float32)
    n, q = at.session_state[K.GRID_N], at.session_state[K.GRID_Q]
    expected = manifold(model.vae.decode, n, q, "quantile", z, (0, 1))
    np.testing.assert_array_equal(_grid_pixels(at), expected)
    if route == "slider":  # a click or a cell keeps z3..z5: the same grid
        assert not np.array_equal(_grid_pixels(at), before)
