"""A folder maps every held-out image but stores the pixels of its first ones:
all latents stored and served, pictures beyond the stored ones read from the
image folder's cache, and a folder without that cache opens and says why."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from devtools.big_model import big_model_folder
from vaeapp.data.folder_index import CACHE_ENV
from vaeapp.inference.figures import image_figures, streamed_figures
from vaeapp.store.format import (
    CACHE_ROWS_KEY,
    CONFIG_FILE,
    LATENTS_FILE,
    PRETRAINED_DIR,
    ModelFolderError,
    images_as_bytes,
)
from vaeapp.store.held_out import check_cache_name
from vaeapp.store.reading import load_model
from vaeapp.web import image_chunks
from vaeapp.web.assets import pack_model_files

POINTS, STORED = 600, 100


@pytest.fixture
def big(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Path, np.ndarray]:
    """A 600-point folder storing 100 images, its cache under
    $VAEAPP_CACHE_DIR, and every image's pixels as a folder of all holds them."""
    monkeypatch.setenv(CACHE_ENV, str(tmp_path / "cache"))
    folder = big_model_folder(
        tmp_path / "big", POINTS, 2, stored=STORED, cache_root=tmp_path / "cache"
    )
    whole = load_model(big_model_folder(tmp_path / "whole", POINTS, 2))
    return folder, whole.test_images


def test_every_latent_is_stored_and_served_with_its_picture_from_the_cache(
    big,
) -> None:
    """All 600 latents load and go to the browser; the folder holds 100
    images, and every point's picture (hover chunks, point_images) is the
    right one, read from the shuffled cache beyond the first 100."""
    folder, pixels = big
    model = load_model(folder)
    assert model.latent_mean.shape == (POINTS, 2)
    assert model.test_images.shape[0] == STORED
    files = pack_model_files(model, model.latent_mean)
    assert files.meta["count"] == POINTS
    assert model.image_count == POINTS and model.image_cache_note is None
    np.testing.assert_array_equal(model.point_images(np.arange(590, 600)), pixels[590:])
    np.testing.assert_array_equal(model.point_images([3, 450]), pixels[[3, 450]])
    assert image_chunks.chunk_count(model) == 1
    assert image_chunks.images_note(model) is None
    chunk = np.frombuffer(image_chunks.image_chunk(model, 0), np.uint8)
    np.testing.assert_array_equal(chunk.reshape(POINTS, -1), pixels)


def test_a_folder_without_its_cache_opens_and_says_why(
    big, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """Without the cache on the server the folder opens with all 600 points;
    pictures stop after the 100 stored, and the note names both counts and
    the missing cache."""
    monkeypatch.setenv(CACHE_ENV, str(tmp_path / "elsewhere"))
    folder, pixels = big
    model = load_model(folder)
    assert model.latent_mean.shape == (POINTS, 2) and model.image_count == STORED
    note = image_chunks.images_note(model)
    assert "first 100 of its 600" in note and "no cache of the data" in note
    assert image_chunks.image_count(model) == STORED
    chunk = np.frombuffer(image_chunks.image_chunk(model, 0), np.uint8)
    np.testing.assert_array_equal(chunk.reshape(STORED, -1), pixels[:STORED])
    with pytest.raises(IndexError):
        model.point_images([STORED])


def test_the_selection_grid_shows_pictures_it_has_and_blanks_the_rest(
    big, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """A selection across the stored limit without the cache: its stored
    images are drawn, the others left white."""
    from vaeapp.ui.views.selection import SCALE, page_of_images

    monkeypatch.setenv(CACHE_ENV, str(tmp_path / "elsewhere"))
    folder, pixels = big
    grid = page_of_images(load_model(folder), np.array([5, 500]), 0)
    side = 28 * SCALE
    first, second = grid[:side, :side], grid[:side, side : 2 * side]
    np.testing.assert_array_equal(first[::SCALE, ::SCALE], pixels[5].reshape(28, 28))
    assert (second == 255).all()


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda c: c["data"].update(image_cache="../../etc"), "folder cache's name"),
        (lambda c: c["data"].update(image_cache=7), "folder cache's name"),
    ],
)
def test_a_forged_cache_name_makes_the_folder_unusable(big, change, message) -> None:
    """A cache name that is not a digest and a decoding is refused."""
    folder, _ = big
    config = json.loads((folder / CONFIG_FILE).read_text())
    change(config)
    (folder / CONFIG_FILE).write_text(json.dumps(config))
    with pytest.raises(ModelFolderError, match=message):
        load_model(folder)


def test_forged_cache_rows_are_refused_or_ignored(big) -> None:
    """Negative rows, rows past a folder's most files and rows of the wrong
    shape make the folder unusable; rows beyond the cache leave the cache
    unopened, with a note."""
    folder, _ = big
    with np.load(folder / LATENTS_FILE) as npz:
        arrays = dict(npz)
    good = arrays[CACHE_ROWS_KEY]
    for forged in (good - 1, good.astype(np.uint64) + 2**63, good[:-1]):
        arrays[CACHE_ROWS_KEY] = forged
        np.savez(folder / LATENTS_FILE, **arrays)
        with pytest.raises(ModelFolderError, match="cache_rows"):
            load_model(folder)
    arrays[CACHE_ROWS_KEY] = good
    arrays[CACHE_ROWS_KEY] = arrays[CACHE_ROWS_KEY] + 10_000
    np.savez(folder / LATENTS_FILE, **arrays)
    model = load_model(folder)
    assert model.image_count == STORED and "does not fit" in model.image_cache_note


def test_streamed_figures_equal_numpys_in_one_part_and_bound_their_parts() -> None:
    """Figures in parts of 4,096 rows equal image_figures for a smaller set;
    in parts of 50 every part is the one-shot figure of its rows and seed."""
    model = load_model(PRETRAINED_DIR / "mnist-tutorial")
    x, mean, log_var = (
        model.test_images[:120],
        model.latent_mean[:120],
        model.latent_log_var[:120],
    )
    whole = image_figures(model.vae, x, mean, log_var)
    parts = streamed_figures(model.vae, lambda s: x[s], mean, log_var)
    for key in whole:
        np.testing.assert_array_equal(parts[key], whole[key])
    small = streamed_figures(model.vae, lambda s: x[s], mean, log_var, rows=50)
    third = image_figures(model.vae, x[100:], mean[100:], log_var[100:], seed=2)
    np.testing.assert_array_equal(small["elbo"][100:], third["elbo"])


def test_publish_stores_every_latent_some_pixels_and_the_folders_cache(
    trained, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A run on a 300-image folder holding out half: the published folder
    has all 150 latents (float16 past the threshold), the pixels of the
    first 20 only, the rest served from the folder's cache, and per-image
    figures of all 150 equal to NumPy's."""
    from PIL import Image

    from vaeapp.data.sources import load_dataset
    from vaeapp.train import publish
    from vaeapp.train.loop import encode_all

    monkeypatch.setenv(CACHE_ENV, str(tmp_path / "cache"))
    images = tmp_path / "scans"
    images.mkdir()
    rng = np.random.default_rng(0)
    for i in range(300):
        Image.fromarray(rng.integers(0, 256, (28, 28), np.uint8)).save(
            images / f"s{i}.png"
        )
    data = load_dataset("scans", images, test_share=0.5)
    assert len(data.x_test) == 150
    base = trained().result
    mean, log_var = encode_all(base.model, data.x_test)
    result = dataclasses.replace(
        base,
        test_images=data.x_test,
        labels=data.y_test,
        latent_mean=mean,
        latent_log_var=log_var,
        class_names=None,
        file_names=data.names_test,
    )
    monkeypatch.setattr(publish, "FLOAT16_LATENTS_ABOVE", 100)
    folder = publish.save_result(result, tmp_path / "runs", "big", stored_images=20)
    with np.load(folder / LATENTS_FILE) as npz:
        assert npz["mean"].dtype == np.float16 and npz["images"].shape[0] == 20
    model = load_model(folder)
    assert model.latent_mean.shape[0] == 150 and model.image_count == 150
    pixels = images_as_bytes(np.asarray(data.x_test))
    np.testing.assert_array_equal(model.point_images(slice(0, 150)), pixels)
    expected = image_figures(model.vae, pixels, model.latent_mean, model.latent_log_var)
    for key, values in expected.items():
        np.testing.assert_array_equal(model.figures[key], values)


def test_a_run_that_refines_q_refuses_more_held_out_images_than_stored() -> None:
    """--refine needs every test image in the folder: 10,000 28x28 images
    pass, 10,001 are refused before training, naming both counts."""
    from vaeapp.train.publish import check_refinable

    check_refinable(10_000, (28, 28, 1))
    with pytest.raises(ValueError, match="stores 10,000; this data holds out 10,001"):
        check_refinable(10_001, (28, 28, 1))


@settings(max_examples=200, deadline=None)
@given(st.one_of(st.text(max_size=80), st.integers(), st.none(), st.lists(st.text())))
def test_any_cache_name_is_a_plain_folder_name_or_refused(name) -> None:
    """Whatever config.json says, check_cache_name gives back a name with
    no path separator or '..', or raises ValueError."""
    try:
        checked = check_cache_name(name)
    except ValueError:
        return
    assert "/" not in checked and "\\" not in checked and ".." not in checked
    assert Path(checked).name == checked and checked.isprintable()


def test_a_cache_name_with_a_trailing_newline_is_refused() -> None:
    """A regular expression's ``$`` would let a final newline through."""
    with pytest.raises(ValueError, match="folder cache's name"):
        check_cache_name("0" * 32 + "-28x28-grey-black\n")


def test_the_facts_say_when_the_test_figure_covers_the_first_images_only(
    big,
) -> None:
    """metrics.json's test_images (the first images the test figures were
    measured on) shows beside the test −ELBO; absent, nothing is added."""
    from vaeapp.explore.facts import model_facts

    folder, _ = big
    assert "first" not in model_facts(load_model(folder))["Test −ELBO"]
    metrics = json.loads((folder / "metrics.json").read_text())
    (folder / "metrics.json").write_text(json.dumps({**metrics, "test_images": 100}))
    text = model_facts(load_model(folder))["Test −ELBO"]
    assert text.endswith("nats (first 100 of 600 test images)")


def test_held_out_images_from_no_folder_go_to_a_content_named_cache(
    trained, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An in-memory test set larger than the stored cap is written once to a
    cache named by its content: the folder serves every image from it, the
    same images give the same name, and without it the folder says why."""
    from vaeapp.train.publish import held_out_cache, save_result

    monkeypatch.setenv(CACHE_ENV, str(tmp_path / "cache"))
    result = trained().result
    n = result.labels.shape[0]
    folder = save_result(result, tmp_path / "runs", "mem", stored_images=10)
    model = load_model(folder)
    assert model.test_images.shape[0] == 10 and model.image_count == n
    pixels = images_as_bytes(np.asarray(result.test_images))
    np.testing.assert_array_equal(model.point_images(slice(0, n)), pixels)
    name = model.record.image_cache
    assert held_out_cache(result, 10)[0] == name
    assert len(list((tmp_path / "cache" / "folders").iterdir())) == 1
    monkeypatch.setenv(CACHE_ENV, str(tmp_path / "elsewhere"))
    assert "no cache" in image_chunks.images_note(load_model(folder))
