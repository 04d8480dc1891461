"""The test images behind a model's latent map: shipped once, or in the folder."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest

from vaeapp.data.testsets import is_shipped, shipped_images
from vaeapp.store.format import (
    IMAGES_KEY,
    LATENTS_FILE,
    PRETRAINED_DIR,
    ModelFolderError,
    images_as_bytes,
)
from vaeapp.store.reading import load_model


@pytest.mark.parametrize("name", ["mnist-tutorial", "fashion-tutorial"])
def test_shipped_images_line_up_with_the_encoded_test_set(name: str) -> None:
    """Encoding the shipped test images gives the stored latent means."""
    model = load_model(PRETRAINED_DIR / name)
    assert model.test_images is not None
    assert model.test_images.shape == (model.labels.shape[0], 784)
    mean, _ = model.vae.encode(model.test_images[:500] / np.float32(255))
    np.testing.assert_allclose(mean, model.latent_mean[:500], atol=1e-3)


def test_other_labels_get_no_shipped_images() -> None:
    """A test set whose labels differ from the official one is not matched."""
    labels = load_model(PRETRAINED_DIR / "mnist-tutorial").labels.copy()
    assert shipped_images("mnist", labels) is not None
    labels[0] = (labels[0] + 1) % 10
    assert shipped_images("mnist", labels) is None
    assert shipped_images("mnist", labels[:10]) is None


def test_a_model_on_other_data_keeps_its_own_images(trained) -> None:
    """A folder trained on non-official data stores its test images and loads them."""
    t = trained()
    with np.load(t.folder / LATENTS_FILE, allow_pickle=False) as npz:
        assert IMAGES_KEY in npz.files
    loaded = load_model(t.folder)
    expected = images_as_bytes(t.result.test_images)
    assert not is_shipped("mnist", expected, t.result.labels)
    np.testing.assert_array_equal(loaded.test_images, expected)


def test_images_of_the_wrong_shape_make_the_folder_unusable(
    trained, tmp_path: Path
) -> None:
    """A latents file whose images do not match its labels is refused by name."""
    folder = tmp_path / "bad"
    shutil.copytree(trained().folder, folder)
    with np.load(folder / LATENTS_FILE, allow_pickle=False) as npz:
        arrays = {k: npz[k] for k in npz.files}
    arrays[IMAGES_KEY] = arrays[IMAGES_KEY][:, :20]
    np.savez(folder / LATENTS_FILE, **arrays)
    with pytest.raises(ModelFolderError, match="images must be uint8"):
        load_model(folder)
