"""The held-out images sent to the browser in chunks: bounds, content names,
the cache's bound, and a folder without images."""

from __future__ import annotations

import hashlib
import shutil
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from vaeapp.store.format import FIGURES_FILE, LATENTS_FILE, PRETRAINED_DIR
from vaeapp.store.reading import load_model
from vaeapp.web import image_chunks
from vaeapp.web.image_chunks import (
    CHUNK_IMAGES,
    chunk_count,
    chunk_name,
    image_chunk,
    images_note,
    write_chunk,
)


@pytest.fixture(scope="module")
def tutorial():
    return load_model(PRETRAINED_DIR / "mnist-tutorial")


def test_chunks_hold_the_test_images_in_order(tutorial) -> None:
    """10,000 images make 10 chunks; chunk i holds images i*1024 onwards, the
    last one the remaining 784, as raw bytes in the model's pixel order."""
    assert chunk_count(tutorial) == 10
    second = np.frombuffer(image_chunk(tutorial, 1), np.uint8).reshape(-1, 784)
    np.testing.assert_array_equal(second, tutorial.test_images[1024:2048])
    last = np.frombuffer(image_chunk(tutorial, 9), np.uint8)
    assert last.size == (10_000 - 9 * CHUNK_IMAGES) * 784
    np.testing.assert_array_equal(last[-784:], tutorial.test_images[-1])


def test_chunk_names_are_the_hash_of_their_bytes(tutorial, tmp_path: Path) -> None:
    """A chunk's name carries the SHA-256 of its bytes; written once, the file
    holds those bytes; another chunk has another name."""
    data = image_chunk(tutorial, 3)
    name = chunk_name(tutorial, 3)
    assert name == f"images.{hashlib.sha256(data).hexdigest()[:16]}.bin"
    path = write_chunk(tutorial, 3, tmp_path)
    assert path.name == name and path.read_bytes() == data
    assert write_chunk(tutorial, 3, tmp_path) == path
    assert chunk_name(tutorial, 4) != name


@pytest.mark.parametrize("index", [-1, 10, 10**30, True, 1.0, "1", None])
def test_chunk_indices_out_of_bounds_are_refused(tutorial, index) -> None:
    """Indices outside 0 to 9, or not whole numbers, raise ValueError."""
    with pytest.raises(ValueError, match="chunk index must be"):
        image_chunk(tutorial, index)


@given(st.integers(-(10**6), 10**6))
@settings(max_examples=100, deadline=None)
def test_any_index_gives_a_chunk_or_a_value_error(index: int) -> None:
    """Any whole number is a chunk of at most CHUNK_IMAGES images or refused."""
    model = _tutorial()
    try:
        data = image_chunk(model, index)
    except ValueError:
        assert not 0 <= index < 10
        return
    assert 0 < len(data) <= CHUNK_IMAGES * 784


def test_the_cache_stays_within_its_bound(tutorial, monkeypatch) -> None:
    """With room for two chunks, making five keeps two, the latest."""
    monkeypatch.setattr(image_chunks, "CACHE_BYTES", 2 * CHUNK_IMAGES * 784)
    image_chunks._cache.clear()
    for index in range(5):
        image_chunk(tutorial, index)
    assert [key[1] for key in image_chunks._cache] == [3, 4]


def test_a_folder_without_images_opens_and_says_why(tmp_path: Path) -> None:
    """A 28x28 folder whose test set is not the shipped one and that stores
    no images: no chunks, a note, and a chunk request says the same."""
    folder = tmp_path / "m"
    shutil.copytree(PRETRAINED_DIR / "mnist-tutorial", folder)
    with np.load(folder / LATENTS_FILE) as npz:
        arrays = dict(npz)
    arrays = {k: v[:500] for k, v in arrays.items()}  # no longer the shipped set
    np.savez(folder / LATENTS_FILE, **arrays)
    (folder / FIGURES_FILE).unlink()  # its rows were those of 10,000 images
    model = load_model(folder)
    assert model.test_images is None and chunk_count(model) == 0
    assert "decoded images only" in images_note(model)
    with pytest.raises(ValueError, match="decoded images only"):
        image_chunk(model, 0)


_cached: dict = {}


def _tutorial():
    if "m" not in _cached:
        _cached["m"] = load_model(PRETRAINED_DIR / "mnist-tutorial")
    return _cached["m"]
