"""AppTest tests of the explorer page, run headless through Streamlit's test API."""

from __future__ import annotations

import base64
import io
import math
import re
from pathlib import Path

import numpy as np
import pytest
from app_helpers import (
    component_data,
    explorer_data,
    fill_retrain_form,
    move_slider,
    new_app,
    run_until_warning,
    send_event,
    shown,
    sliders_data,
    walk,
)
from PIL import Image
from streamlit.testing.v1 import AppTest

from vaeapp.store.listing import best_pretrained
from vaeapp.store.reading import load_model, read_record
from vaeapp.ui.components.grid_picture import GRID_BROWSER_MAX_MS
from vaeapp.ui.state import K

ROOT = Path(__file__).resolve().parents[2]
GRID = "vaeapp.grid_click"
TIMEOUT = 60


def _digit_url(at: AppTest) -> str:
    """The data URL of the decoded digit next to the map."""
    return sliders_data(at)["src"]


def _markdown(at: AppTest) -> str:
    return shown(
        "\n".join(m.value for m in at.markdown)
        + "\n".join(m.value for m in at.sidebar.markdown)
    )


def test_app_loads_the_shipped_model() -> None:
    """The page loads the best pretrained model with no exception."""
    at = new_app().run()
    assert not at.exception
    assert at.title[0].value == "VAE latent explorer"
    best = read_record(best_pretrained())
    assert best.name in _markdown(at)
    data = explorer_data(at)
    assert data["assets"]["count"] == 10_000
    assert data["z"] == [0.0, 0.0]


def test_map_library_is_sent_first_and_once_per_session() -> None:
    """regl-scatterplot's bundle is the page's first component, sent on the first
    run only: as the URL of a static file named by its content, which holds it."""
    at = new_app().run()
    names = [n.proto.component_name for n in walk(at._tree[0], "bidi_component")]
    assert names[0] == "vaeapp.map_loader"
    sent = component_data(at, "vaeapp.map_loader")[0]
    assert re.fullmatch(r"app/static/vaeapp/scatterplot\.[0-9a-f]{16}\.js", sent["url"])
    served = ROOT / "static" / sent["url"].removeprefix("app/static/")
    assert served.read_bytes().startswith(b"/* regl-scatterplot")
    at.run()
    assert not at.exception
    assert component_data(at, "vaeapp.map_loader") == [{}]


def test_moving_a_slider_changes_the_decoded_image() -> None:
    """Moving z1 decodes a new digit and moves the map marker."""
    at = new_app().run()
    before = _digit_url(at)
    move_slider(at, 0, 2.5)
    assert not at.exception
    assert _digit_url(at) != before
    assert sliders_data(at)["z"][0] == pytest.approx(2.5)
    data = explorer_data(at)
    assert data["z"][0] == pytest.approx(2.5)
    assert "assets" not in data, "the map's points must not be resent on a slider move"


def test_grid_has_n_by_n_cells() -> None:
    """The manifold grid shows n x n decoded digits for the chosen n."""
    at = new_app().run()
    send_event(at, GRID, "settings", {"n": 7, "q": 0.05, "spacing": "quantile"})
    data = component_data(at, GRID)[0]
    assert data["n"] == 7 and len(data["xs"]) == len(data["ys"]) == 7
    assert data["slow_ms"] == GRID_BROWSER_MAX_MS  # the server's limit, sent
    send_event(at, GRID, "slow", True)  # now the server draws it
    png = base64.b64decode(component_data(at, GRID)[0]["src"].split(",", 1)[1])
    assert Image.open(io.BytesIO(png)).size == (7 * 28, 7 * 28)


def test_bad_latent_values_in_state_are_refused() -> None:
    """NaN and huge latent values set through session state are reported and fixed."""
    at = new_app().run()
    at.session_state[K.Z] = [math.nan, 1e30]
    at.run()
    assert not at.exception
    warnings = shown(" ".join(w.value for w in at.warning))
    assert "not a finite number" in warnings and "outside" in warnings
    z = explorer_data(at)["z"]
    assert z == [0.0, load_model(best_pretrained()).z_limit]
    assert np.isfinite(z).all()


def test_latent_point_from_the_url() -> None:
    """A ?z= query parameter sets the starting latent point."""
    at = new_app()
    at.query_params["z"] = "1.5,-0.5"
    at.run()
    assert explorer_data(at)["z"] == [1.5, -0.5]


@pytest.mark.parametrize("bad_n", [0, 1, -5, 10**6])
def test_bad_grid_settings_in_state_never_break_the_grid(bad_n: int) -> None:
    """A grid size outside 2..30 set through session state still gives a valid grid."""
    at = new_app().run()
    at.session_state[K.GRID_N] = bad_n
    at.run()
    assert not at.exception
    n = component_data(at, GRID)[0]["n"]
    assert 2 <= n <= 30
    assert at.session_state[K.GRID_N] == n


def test_retrain_form_is_built_only_while_its_expander_is_open() -> None:
    """The Retrain form's fields exist only once its sidebar expander is opened."""
    from vaeapp.ui.state import K

    at = new_app().run()
    assert not at.exception
    assert not at.sidebar.number_input
    at.session_state[K.RETRAIN_OPEN] = True
    at.run()
    labels = {n.label for n in at.sidebar.number_input}
    assert {"Epochs", "Batch size", "Learning rate"} <= labels
    at.session_state[K.RETRAIN_OPEN] = False
    at.run()
    assert not at.sidebar.number_input


def test_retrain_one_epoch_finishes_and_switches(
    small_mnist: Path, isolated_home: Path
) -> None:
    """A 1-epoch retrain on a small subset publishes a model and switches to it."""
    at = new_app().run()
    fill_retrain_form(at)
    at.sidebar.button[0].click()  # the form's submit button
    at.run()
    assert not at.exception
    assert not at.error, [e.value for e in at.error]
    run_until_warning(at, "Training finished")
    trained = [p for p in isolated_home.iterdir() if not p.name.startswith(".")]
    assert len(trained) == 1
    assert trained[0].name in _markdown(at)
    assert read_record(trained[0]).epochs_trained == 1
    assert at.selectbox(key=K.MODEL_PICK).value == str(trained[0])


def test_conv_retrain_switches_to_a_live_conv_model(
    small_mnist: Path, isolated_home: Path
) -> None:
    """A 1-epoch conv retrain publishes a conv model; the page decodes it live."""
    at = new_app().run()
    fill_retrain_form(at, architecture="conv")
    at.sidebar.button[0].click()  # the form's submit button
    at.run()
    assert not at.error, [e.value for e in at.error]
    run_until_warning(at, "Training finished")
    trained = [p for p in isolated_home.iterdir() if not p.name.startswith(".")]
    assert read_record(trained[0]).model.architecture == "conv"
    assert not at.exception
    layers = explorer_data(at)["assets"]["layers"]
    assert "conv_transpose" in [layer["kind"] for layer in layers]
    before = _digit_url(at)
    move_slider(at, 0, 2.0)
    assert not at.exception
    assert _digit_url(at) != before


def test_sidebar_names_the_training_data_not_a_path() -> None:
    """The sidebar says "MNIST, 55,000 training images", not where the data was."""
    at = new_app().run()
    text = _markdown(at)
    assert "Data: MNIST, 55,000 training images" in text
    assert read_record(best_pretrained()).data_source not in text
