"""AppTest tests of uploads: model zips in the sidebar, digit pictures in the tools."""

from __future__ import annotations

import hashlib
import io
import os
import zipfile
from pathlib import Path

import numpy as np
from app_helpers import new_app, shown
from PIL import Image
from streamlit.testing.v1 import AppTest

from vaeapp.store.format import MODEL_FILES
from vaeapp.store.listing import best_pretrained
from vaeapp.ui.state import K

ROOT = Path(__file__).resolve().parents[2]


def _tree_hash(folder: Path) -> str:
    digest = hashlib.sha256()
    if folder.exists():
        for path in sorted(folder.rglob("*")):
            digest.update(str(path.relative_to(folder)).encode())
            if path.is_file():
                digest.update(path.read_bytes())
    return digest.hexdigest()


def _model_uploader(at: AppTest):
    return next(u for u in at.sidebar.file_uploader if "model zip" in u.label)


def _digit_uploader(at: AppTest):
    return next(u for u in at.main.file_uploader if "PNG or JPEG" in u.label)


def _messages(at: AppTest) -> str:
    boxes = [*at.error, *at.sidebar.error, *at.success, *at.sidebar.success]
    return shown("\n".join(b.value for b in boxes))


def test_a_model_zip_made_by_the_app_is_imported_and_opened(
    isolated_home: Path,
) -> None:
    """Uploading a zipped model folder imports it and switches to it."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name in MODEL_FILES:
            if (best_pretrained() / name).is_file():
                archive.write(best_pretrained() / name, arcname=name)
    at = new_app().run()
    _model_uploader(at).upload("shared-model.zip", buffer.getvalue()).run()
    assert not at.exception
    assert "Imported shared-model" in _messages(at)
    assert (isolated_home / "shared-model" / "model.weights.h5").is_file()
    assert at.session_state[K.ACTIVE_MODEL] == str(isolated_home / "shared-model")


def test_random_bytes_as_a_model_zip_are_refused(isolated_home: Path) -> None:
    """A non-zip upload is refused with a message and nothing on disk changes."""
    before = _tree_hash(isolated_home)
    at = new_app().run()
    active = at.session_state[K.ACTIVE_MODEL]
    _model_uploader(at).upload("evil.zip", os.urandom(4096)).run()
    assert not at.exception
    assert "Upload refused" in _messages(at)
    assert _tree_hash(isolated_home) == before
    assert at.session_state[K.ACTIVE_MODEL] == active


def test_an_uploaded_digit_picture_is_encoded_and_drawn_on_the_map() -> None:
    """A PNG of a digit is preprocessed to 28x28 and its posterior ellipse is sent."""
    picture = np.full((120, 90), 255, np.uint8)
    picture[20:100, 40:52] = 0  # a dark vertical stroke on white paper: a "1"
    png = io.BytesIO()
    Image.fromarray(picture).save(png, format="PNG")
    at = new_app().run()
    _digit_uploader(at).upload("one.png", png.getvalue(), "image/png").run()
    assert not at.exception
    digit = at.session_state[K.OWN_DIGIT]
    assert digit.shape == (784,) and 0 <= digit.min() and digit.max() == 1.0
    assert any("Posterior mean" in m.value for m in at.markdown)


def test_a_text_file_named_png_is_refused_as_a_picture() -> None:
    """A text file uploaded as a digit picture gives a clear refusal."""
    at = new_app().run()
    _digit_uploader(at).upload("note.png", b"hello, not a picture", "image/png").run()
    assert not at.exception
    assert "Picture refused" in _messages(at)
    assert K.OWN_DIGIT not in at.session_state


def test_a_picture_is_encoded_with_the_models_refined_q() -> None:
    """On a model whose folder refines q (the default mnist-wide), the panel
    shows the refined posterior mean, as the map's points are, not the
    encoder's."""
    from vaeapp.store.reading import load_model

    picture = np.full((120, 90), 255, np.uint8)
    picture[20:100, 30:60] = 0
    png = io.BytesIO()
    Image.fromarray(picture).save(png, format="PNG")
    at = new_app().run()
    model = load_model(best_pretrained())
    assert model.record.refine is not None
    _digit_uploader(at).upload("bar.png", png.getvalue(), "image/png").run()
    digit = at.session_state[K.OWN_DIGIT]
    refined, _ = model.encode(digit[None])
    encoder, _ = model.vae.encode(digit[None])
    text = next(m.value for m in at.markdown if "Posterior mean" in m.value)
    assert f"z1 = {refined[0, 0]:+.2f}" in text and f"z2 = {refined[0, 1]:+.2f}" in text
    assert np.abs(refined - encoder).max() > 0.01
