"""AppTest tests of inspecting a test digit picked on the map."""

from __future__ import annotations

import pytest
from app_helpers import explorer_data, new_app, shown, walk

from vaeapp.data.sources import CLASS_NAMES
from vaeapp.store.listing import best_pretrained
from vaeapp.store.reading import load_model
from vaeapp.ui.state import K
from vaeapp.ui.views.inspect import ELLIPSE_COLOUR


def _images(at) -> list:
    return list(walk(at._tree[0], "image"))


def test_inspecting_a_test_digit_shows_image_reconstruction_and_error() -> None:
    """A picked test digit shows its label, three pictures, losses and an ellipse."""
    model = load_model(best_pretrained())
    at = new_app().run()
    assert not at.exception
    before = len(_images(at))
    at.session_state[K.INSPECT] = 7
    at.run()
    assert not at.exception
    text = shown("\n".join(m.value for m in at.markdown))
    label = CLASS_NAMES["mnist"][model.labels[7]]
    assert f"**Test image #7**, labelled **{label}**" in text
    assert "Reconstruction loss" in text and "nats" in text
    assert len(_images(at)) == before + 3
    captions = [c for img in _images(at) for c in [img.proto.imgs[0].caption]]
    assert "Reconstruction from the mean" in captions
    colours = [e["color"] for e in explorer_data(at)["ellipses"]]
    assert colours == [ELLIPSE_COLOUR]


def test_closing_the_inspection_removes_panel_and_ellipse() -> None:
    """Close hides the panel and the ellipse and keeps the page working."""
    at = new_app().run()
    at.session_state[K.INSPECT] = 3
    at.run()
    at.button(key="inspect_close").click().run()
    assert not at.exception
    assert K.INSPECT not in at.session_state
    assert explorer_data(at)["ellipses"] == []
    assert any("Click a data point" in c.value for c in at.caption)


@pytest.mark.parametrize("bad", [-1, 10_000, 10**12, "7", 2.5, True, None])
def test_bad_inspect_indices_are_ignored(bad: object) -> None:
    """An index outside the test set, or not an integer, shows no panel and no error."""
    at = new_app().run()
    at.session_state[K.INSPECT] = bad
    at.run()
    assert not at.exception
    assert not any("Test image #" in m.value for m in at.markdown)
    assert explorer_data(at)["ellipses"] == []
