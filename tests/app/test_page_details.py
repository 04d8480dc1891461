"""AppTest: details a new user tripped over — the picture limit said once, a
pad that names its data set and forgets another model's strokes, a 20-D model
that opens on its readable plane, and prior samples named as they are drawn."""

from __future__ import annotations

from app_helpers import component_data, explorer_data, new_app, open_tool, walk
from streamlit.testing.v1 import AppTest

from vaeapp.data.preprocess import MAX_BYTES, MAX_MB
from vaeapp.store.format import PRETRAINED_DIR
from vaeapp.ui.state import K


def _uploader_limits(at: AppTest) -> dict[str, int]:
    """Each file uploader's label -> the size limit it shows, in MB."""
    found = {}
    for root in at._tree.children.values():
        for node in walk(root, "file_uploader"):
            found[node.proto.label] = node.proto.max_upload_size_mb
    return found


def test_the_picture_uploader_says_the_limit_it_enforces() -> None:
    """The picture uploader shows the limit the picture check enforces (10 MB,
    Streamlit's megabytes of 2**20 bytes), not the model zips' 50 MB."""
    at = open_tool(new_app().run(), "Encode your image")
    limits = _uploader_limits(at)
    picture = [mb for label, mb in limits.items() if "PNG or JPEG" in label]
    assert picture == [MAX_MB]
    assert MAX_BYTES == MAX_MB * 2**20


def test_the_pad_names_the_data_set_and_is_wiped_for_another_model() -> None:
    """On Fashion-MNIST the pad asks for a picture like its images, not a
    digit, and its reset token changes with the model (the browser then
    wipes the old model's strokes)."""
    at = open_tool(new_app().run(), "Encode your image")
    before = component_data(at, "vaeapp.draw_canvas")
    assert before["subject"] == "a digit"
    at.session_state[K.ACTIVE_MODEL] = str(PRETRAINED_DIR / "fashion-tutorial")
    at.run()
    after = component_data(at, "vaeapp.draw_canvas")
    assert after["subject"] == "a picture like the fashion_mnist images"
    assert after["reset"] != before["reset"]
    assert any("fashion_mnist" in i.value for i in at.info)
    assert not any("digit" in i.value for i in at.info)


def test_a_twenty_dimensional_model_opens_on_its_pca_plane() -> None:
    """mnist-20d opens on the PCA plane (its most readable), not z1/z2."""
    at = new_app()
    at.session_state[K.ACTIVE_MODEL] = str(PRETRAINED_DIR / "mnist-20d")
    at.run()
    assert not at.exception
    assert explorer_data(at)["axis_titles"][0].startswith("PC1 (")


def test_prior_samples_are_named_as_the_map_draws_them() -> None:
    """The Sample tool's caption names the white stars the map draws."""
    at = open_tool(new_app().run(), "Sample")
    at.button(key=K.DRAW_SAMPLES).click().run()
    assert explorer_data(at)["samples"]
    captions = [
        picture.caption
        for root in at._tree.children.values()
        for node in walk(root, "image")
        for picture in node.proto.imgs
    ]
    assert any("white stars on the map" in c for c in captions), captions
