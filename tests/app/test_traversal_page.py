"""AppTest tests of animated traversals: the interpolation as a GIF, and an
axis swept from -3 to +3 with its path on the map."""

from __future__ import annotations

import json

import numpy as np
from app_helpers import explorer_data, move_slider, new_app, open_tool, walk

from vaeapp.store.format import PRETRAINED_DIR
from vaeapp.ui.state import K


def _app():
    """The page on mnist-deep (whichever shipped model is the default)."""
    at = new_app()
    at.session_state[K.ACTIVE_MODEL] = str(PRETRAINED_DIR / "mnist-deep")
    return at.run()


def _gif_images(at) -> list:
    """The animations the browser decodes and plays, as (caption, points)
    pairs (no GIF is made until a download)."""
    out = []
    for node in walk(at._tree[0], "bidi_component"):
        if node.proto.component_name == "vaeapp.frames":
            data = json.loads(node.proto.json)[0]
            if data["mode"] == "animation":
                out.append((data["caption"], data["points"]))
    return out


def _download_labels(at) -> list[str]:
    return [n.proto.label for n in walk(at._tree[0], "download_button")]


def test_the_interpolation_plays_as_a_gif_when_asked() -> None:
    """The interpolation plays as a gif when asked."""
    at = open_tool(_app(), "Interpolate")
    at.radio(key=K.INTERP_SOURCE).set_value("two test digits").run()
    assert not _gif_images(at)
    at.toggle(key=K.INTERP_GIF).set_value(True).run()
    assert not at.exception
    captions = [c for c, _ in _gif_images(at)]
    assert captions == ["A → B and back, decoded at the same steps"]
    assert any(label.startswith("Download animation (GIF") for label in
               _download_labels(at))  # fmt: skip


def test_an_axis_sweep_plays_and_draws_its_path_on_the_map() -> None:
    """z2 swept from -3 to 3 at z1 = 0.5: a GIF, and on the map a line of
    that many points from (0.5, -3) to (0.5, 3) that follows z."""
    at = _app()
    move_slider(at, 0, 0.5)
    at = open_tool(at, "Sweep an axis")
    assert not at.exception
    at.selectbox(key=K.SWEEP_DIM).set_value(1).run()
    captions = [c for c, _ in _gif_images(at)]
    assert captions == ["z2 from −3 to +3 (prior sigma) and back, the others at z"]
    frames = np.array(_gif_images(at)[0][1])
    np.testing.assert_allclose(frames[:, 0], 0.5, atol=1e-6)
    np.testing.assert_allclose(frames[:, 1], np.linspace(-3, 3, 25), atol=1e-6)
    assert explorer_data(at)["path"] == []
    at.button(key=K.SWEEP_PATH_BUTTON).click().run()
    path = np.array(explorer_data(at)["path"])
    assert path.shape == (25, 2)
    np.testing.assert_allclose(path[:, 0], 0.5, atol=1e-6)
    np.testing.assert_allclose(path[:, 1], np.linspace(-3, 3, 25), atol=1e-6)
    # The path follows the controls and z.
    at.slider(key=K.SWEEP_FRAMES).set_value(9).run()
    assert len(explorer_data(at)["path"]) == 9
    move_slider(at, 0, -1.0)
    path = np.array(explorer_data(at)["path"])
    np.testing.assert_allclose(path[:, 0], -1.0, atol=1e-6)
    # Hidden again.
    at.button(key=K.SWEEP_PATH_BUTTON).click().run()
    assert explorer_data(at)["path"] == []
    assert not at.exception


def test_the_interpolation_button_replaces_a_shown_sweep() -> None:
    """One path at a time: the interpolation's Show replaces a shown sweep,
    and each tab's button says what it would do."""
    at = open_tool(_app(), "Sweep an axis")
    at.button(key=K.SWEEP_PATH_BUTTON).click().run()
    assert len(explorer_data(at)["path"]) == 25
    at = open_tool(at, "Interpolate")
    at.radio(key=K.INTERP_SOURCE).set_value("two test digits").run()
    assert at.button(key=K.PATH_BUTTON).label == "Show path on map"
    at.button(key=K.PATH_BUTTON).click().run()
    assert len(explorer_data(at)["path"]) == 10
    at = open_tool(at, "Sweep an axis")
    assert at.button(key=K.SWEEP_PATH_BUTTON).label == "Show sweep on map"
