"""Streamed .npz and IDX images: the same images, labels and splits as the
in-memory reader, read in place or through a cache, and damaged files refused."""

from __future__ import annotations

import gzip
import shutil
import threading
import zipfile
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from unit_helpers import synthetic_arrays, write_idx_folder

from vaeapp.data import array_files, array_stream
from vaeapp.data.errors import DataError
from vaeapp.data.folder_cache import StreamedImages
from vaeapp.data.sources import load_dataset, validation_split


def _save(path: Path, arrays: dict[str, np.ndarray], compressed: bool) -> Path:
    (np.savez_compressed if compressed else np.savez)(path, **arrays)
    return path


def _rgb(count: int, side: int = 12, equal: bool = False) -> np.ndarray:
    rng = np.random.default_rng(3)
    images = rng.integers(0, 256, (count, side, side, 3), dtype=np.uint8)
    if equal:
        images[..., 1] = images[..., 2] = images[..., 0]
    return images


def _assert_same(streamed, memory) -> None:
    """Equal images, labels, test set, notes and validation split."""
    assert isinstance(streamed.x_train, StreamedImages)
    np.testing.assert_array_equal(np.asarray(streamed.x_train), memory.x_train)
    np.testing.assert_array_equal(streamed.x_test, memory.x_test)
    np.testing.assert_array_equal(streamed.y_train, memory.y_train)
    np.testing.assert_array_equal(streamed.y_test, memory.y_test)
    assert streamed.y_train.dtype == memory.y_train.dtype
    assert streamed.image_shape == memory.image_shape
    assert streamed.class_names == memory.class_names
    assert streamed.notes == memory.notes and streamed.source == memory.source
    _, rows = validation_split(len(streamed.x_train), 10)
    np.testing.assert_array_equal(streamed.x_train[rows], memory.x_train[rows])


@pytest.mark.parametrize("compressed", [False, True])
@pytest.mark.parametrize("with_test", [False, True])
def test_streamed_npz_equals_the_in_memory_reader(tmp_path, compressed, with_test):
    """np.savez and savez_compressed, with or without x_test: equal results."""
    arrays = synthetic_arrays(n_train=150, n_test=30)
    if not with_test:
        del arrays["x_test"], arrays["y_test"]
    path = _save(tmp_path / "set.npz", arrays, compressed)
    _assert_same(load_dataset("mnist", path), load_dataset("mnist", path, stream=False))


@pytest.mark.parametrize("compress", [False, True])
def test_streamed_idx_folder_equals_the_in_memory_reader(tmp_path, compress):
    """Plain and gzip IDX files: equal results."""
    folder = write_idx_folder(tmp_path / "idx", synthetic_arrays(), compress=compress)
    memory = load_dataset("mnist", folder, stream=False)
    _assert_same(load_dataset("mnist", folder), memory)


@pytest.mark.parametrize(
    ("equal", "color", "image_size", "compressed"),
    [
        (False, "auto", 0, False),  # RGB kept, read in place
        (True, "auto", 0, False),  # equal channels: grey
        (False, "grey", 0, False),  # mixed by the ITU-R 601 weights at read
        (False, "grey", 8, True),  # scaled into the cache, then mixed
        (True, "rgb", 16, False),  # scaled up, RGB kept
    ],
)
def test_streamed_colour_and_size_equal_the_in_memory_reader(
    tmp_path, equal, color, image_size, compressed
):
    """Colour (auto, grey, rgb) and --image-size give the in-memory images."""
    arrays = {
        "x_train": _rgb(90, equal=equal),
        "y_train": np.arange(90, dtype=np.uint8) % 3,
    }
    path = _save(tmp_path / "rgb.npz", arrays, compressed)
    options = {"color": color, "image_size": image_size}
    memory = load_dataset("pets", path, stream=False, **options)
    _assert_same(load_dataset("pets", path, **options), memory)


def test_grey_images_asked_as_rgb_are_repeated(tmp_path):
    """A grey .npz with --color rgb streams three equal channels."""
    path = _save(tmp_path / "g.npz", synthetic_arrays(n_train=40, n_test=10), False)
    memory = load_dataset("mnist", path, color="rgb", stream=False)
    _assert_same(load_dataset("mnist", path, color="rgb"), memory)
    assert memory.image_shape == (28, 28, 3)


def test_stored_npz_is_read_in_place_and_compressed_through_a_cache(tmp_path):
    """np.savez grey images make no cache; savez_compressed makes one, reused."""
    arrays = synthetic_arrays(n_train=60, n_test=10)
    cache = tmp_path / "cache"
    stored = load_dataset(
        "mnist", _save(tmp_path / "s.npz", arrays, False), cache_dir=cache
    )
    assert stored.x_train.images == tmp_path / "s.npz" and not cache.exists()
    path = _save(tmp_path / "c.npz", arrays, True)
    first = load_dataset("mnist", path, cache_dir=cache)
    assert first.x_train.images.parent.parent == cache / "arrays"
    made = first.x_train.images.stat().st_mtime_ns
    again = load_dataset("mnist", path, cache_dir=cache)
    assert again.x_train.images.stat().st_mtime_ns == made  # reused, not rewritten


def test_two_processes_share_the_cache_and_see_the_same_set(tmp_path):
    """Shares (0, 2) and (1, 2) of a compressed .npz, built at once, both
    give the in-memory reader's set."""
    path = _save(tmp_path / "c.npz", synthetic_arrays(n_train=200, n_test=20), True)
    memory = load_dataset("mnist", path, stream=False)
    found: dict[int, object] = {}

    def load(part: int) -> None:
        found[part] = load_dataset("mnist", path, share=(part, 2))

    threads = [threading.Thread(target=load, args=(part,)) for part in (0, 1)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    for part in (0, 1):
        _assert_same(found[part], memory)


def test_uint8_images_over_the_memory_budget_are_streamed(tmp_path, monkeypatch):
    """The budget counts what is loaded whole: streamed uint8 images pass."""
    path = _save(tmp_path / "s.npz", synthetic_arrays(n_train=60, n_test=10), False)
    monkeypatch.setattr(array_files, "MAX_NPZ_DATA_BYTES", 10_000)
    assert len(load_dataset("mnist", path).x_train) == 60
    with pytest.raises(DataError, match="at most 10,000 bytes"):
        load_dataset("mnist", path, stream=False)


def test_damaged_compressed_member_is_refused_in_one_line(tmp_path):
    """A byte changed inside savez_compressed's x_train is a DataError."""
    arrays = {"x_train": np.tile(np.arange(256, dtype=np.uint8), (200, 4))}
    arrays["x_train"] = arrays["x_train"].reshape(200, 32, 32)
    path = _save(tmp_path / "c.npz", arrays, True)
    with zipfile.ZipFile(path) as archive:
        info = archive.getinfo("x_train.npy")
    raw = bytearray(path.read_bytes())
    middle = info.header_offset + 30 + len(info.filename) + info.compress_size // 2
    raw[middle] ^= 0xFF
    path.write_bytes(bytes(raw))
    with pytest.raises(DataError, match="cannot read .* as an .npz file") as caught:
        load_dataset("mnist", path)
    assert "\n" not in str(caught.value)


def test_plain_idx_images_cut_short_are_refused(tmp_path):
    """A plain IDX image file missing bytes is refused with the byte counts."""
    folder = write_idx_folder(tmp_path / "idx", synthetic_arrays(), compress=False)
    images = folder / "train-images-idx3-ubyte"
    images.write_bytes(images.read_bytes()[:-5])
    with pytest.raises(DataError, match="holds 156795 bytes of data, expected 156800"):
        load_dataset("mnist", folder)


def test_gzip_idx_images_with_extra_bytes_are_refused(tmp_path):
    """A .gz IDX image file longer than its header says is refused."""
    folder = write_idx_folder(tmp_path / "idx", synthetic_arrays())
    images = folder / "train-images-idx3-ubyte.gz"
    images.write_bytes(gzip.compress(gzip.decompress(images.read_bytes()) + b"xx"))
    with pytest.raises(DataError, match="holds 156802 bytes of data, expected 156800"):
        load_dataset("mnist", folder)


def test_processes_share_a_streamed_npz_as_an_array_in_memory(tmp_path):
    """Each of 2 processes gets its part of every global batch, as from the
    same images in memory (so 2 processes keep 1 process's weights)."""
    from vaeapp.train.batches import ShuffledChunks

    path = _save(tmp_path / "s.npz", synthetic_arrays(n_train=100, n_test=10), False)
    streamed = load_dataset("mnist", path).x_train
    memory = np.asarray(streamed)
    for part in (0, 1):
        options = {"seed": 4, "shard": (part, 2), "chunked": False}
        ours = ShuffledChunks(streamed, 10, 1, **options)
        theirs = ShuffledChunks(memory, 10, 1, **options)
        assert len(ours) == len(theirs) == 5
        for i in range(len(ours)):
            np.testing.assert_array_equal(ours[i], theirs[i])


def test_a_cache_larger_than_the_free_disk_is_refused(tmp_path, monkeypatch):
    """A compressed file whose images need more room than the disk has is
    refused before its cache is written, naming both sizes."""
    path = _save(tmp_path / "c.npz", synthetic_arrays(n_train=60, n_test=10), True)
    free = shutil.disk_usage(tmp_path)._replace(free=1000)
    monkeypatch.setattr(array_stream.shutil, "disk_usage", lambda _: free)
    with pytest.raises(DataError, match="take 47,040 bytes .* has 1,000 bytes free"):
        load_dataset("mnist", path, cache_dir=tmp_path / "cache")


_BASE = {"x_train": np.arange(40 * 64, dtype=np.uint8).reshape(40, 8, 8)}


@settings(max_examples=40, deadline=None)
@given(
    compressed=st.booleans(),
    cut=st.integers(0, 4000),
    flips=st.lists(st.tuples(st.integers(0, 4000), st.integers(1, 255)), max_size=3),
)
def test_a_mangled_npz_loads_or_is_refused_with_a_data_error(
    tmp_path_factory, compressed, cut, flips
):
    """Any .npz cut short or with bytes changed either streams or raises
    DataError (one line): never another exception."""
    folder = tmp_path_factory.mktemp("mangled")
    raw = bytearray(_save(folder / "ok.npz", _BASE, compressed).read_bytes())
    for position, value in flips:
        raw[position % len(raw)] ^= value
    path = folder / "mangled.npz"
    path.write_bytes(bytes(raw[: len(raw) - cut % len(raw)]))
    try:
        data = load_dataset("mnist", path, cache_dir=folder / "cache")
    except DataError as error:
        assert str(error) and "\n" not in str(error)
    else:
        assert np.asarray(data.x_train).shape[1] == 64
