"""The page on a model trained on own colour images (through the real CLI)."""

from __future__ import annotations

import base64
import io
from pathlib import Path

import numpy as np
import pytest
from app_helpers import component_data, explorer_data, new_app, send_event, sliders_data
from PIL import Image
from support import run_train

from vaeapp.ui.state import K

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def colour_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A conv model trained one epoch on 16x16 colour PNGs in three classes."""
    base = tmp_path_factory.mktemp("own")
    rng = np.random.default_rng(0)
    for name in ("red", "green", "blue"):
        (base / "data" / name).mkdir(parents=True)
        for i in range(40):
            pixels = rng.integers(0, 256, (16, 16, 3), dtype=np.uint8)
            Image.fromarray(pixels).save(base / "data" / name / f"{i}.png")
    proc = run_train(
        *["--data", str(base / "data"), "--out", str(base / "out")],
        *["--name", "colour", "--preset", "conv"],
        *"--epochs 1 --train-size 100 --batch-size 50 --quiet --no-jit".split(),
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    return base / "out" / "colour"


def _png(src: str) -> np.ndarray:
    return np.asarray(Image.open(io.BytesIO(base64.b64decode(src.split(",", 1)[1]))))


def test_page_runs_on_a_colour_model(colour_model: Path) -> None:
    """A 16x16 RGB model: the page runs, the selected image and the grid are
    colour pictures of its shape, and the map has its three class names."""
    at = new_app()
    at.session_state[K.ACTIVE_MODEL] = str(colour_model)
    at.run()
    assert not at.exception
    assert not at.error
    assert at.session_state[K.ACTIVE_MODEL] == str(colour_model)  # not a fallback
    assert _png(sliders_data(at)["src"]).shape == (16, 16, 3)
    assets = explorer_data(at)["assets"]
    assert assets["image_shape"] == [16, 16, 3]
    assert sorted(assets["names"]) == ["blue", "green", "red"]
    send_event(at, "vaeapp.grid_click", "slow", True)  # the server's picture
    grid = component_data(at, "vaeapp.grid_click")[0]
    n = grid["n"]
    assert _png(grid["src"]).shape == (16 * n, 16 * n, 3)


@pytest.mark.parametrize(
    "tool", ["Encode your image", "Interpolate", "Neighbours", "Sample"]
)
def test_every_tool_runs_on_a_colour_model(colour_model: Path, tool: str) -> None:
    """Each tool that shows images works for a colour model."""
    at = new_app()
    at.session_state[K.ACTIVE_MODEL] = str(colour_model)
    at.session_state[K.TOOLS_TAB] = tool
    at.run()
    assert not at.exception
    assert not at.error


def test_an_uploaded_picture_is_fitted_to_a_colour_model(colour_model: Path) -> None:
    """A colour model takes an uploaded picture, resized as training did."""
    at = new_app()
    at.session_state[K.ACTIVE_MODEL] = str(colour_model)
    at.session_state[K.TOOLS_TAB] = "Encode your image"
    at.run()
    picture = io.BytesIO()
    Image.new("RGB", (40, 20), (200, 30, 30)).save(picture, format="PNG")
    upload = next(u for u in at.main.file_uploader if "PNG or JPEG" in u.label)
    upload.upload("red.png", picture.getvalue(), "image/png").run()
    assert not at.exception
    digit = at.session_state[K.OWN_DIGIT]
    assert digit.shape == (16 * 16 * 3,)
    np.testing.assert_allclose(
        digit.reshape(16, 16, 3)[8, 8], [200 / 255, 30 / 255, 30 / 255], atol=0.01
    )


@pytest.fixture(scope="module")
def shapes_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A tiny dense model trained one epoch on 200 generated shapes."""
    base = tmp_path_factory.mktemp("shapes")
    proc = run_train(
        *["--dataset", "shapes", "--out", str(base), "--name", "shapes"],
        *"--hidden 16 --epochs 1 --train-size 200 --batch-size 50 --quiet".split(),
        "--no-jit",
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    return base / "shapes"


def test_the_shapes_map_can_be_coloured_by_each_factor(shapes_model: Path) -> None:
    """The map offers the class and each continuous factor; choosing one sends
    its index, and the browser gets the factors with their names."""
    at = new_app()
    at.session_state[K.ACTIVE_MODEL] = str(shapes_model)
    at.run()
    assert not at.exception
    picker = next(r for r in at.radio if r.key == K.COLOUR_BY)
    assert list(picker.options) == ["class", "x", "y", "size", "hue"]
    assets = explorer_data(at)["assets"]
    assert assets["factor_names"] == ["shape", "x", "y", "size", "hue"]
    assert sorted(assets["names"]) == ["circle", "cross", "square", "triangle"]
    assert explorer_data(at)["colour_by"] == -1
    picker.set_value(3).run()  # size
    assert not at.exception
    assert explorer_data(at)["colour_by"] == 3


def test_an_own_picture_of_another_size_is_not_encoded(colour_model: Path) -> None:
    """A picture prepared for an MNIST model is not drawn on a colour model's
    map (nor encoded: its size differs), and the page keeps working."""
    at = new_app().run()
    at.session_state[K.OWN_DIGIT] = np.full(784, 0.5, np.float32)
    at.run()
    assert len(explorer_data(at)["ellipses"]) == 1
    at.session_state[K.ACTIVE_MODEL] = str(colour_model)
    at.run()
    assert not at.exception
    assert explorer_data(at)["ellipses"] == []
