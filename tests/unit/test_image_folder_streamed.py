"""Image folders streamed from their cache: the same images, labels, splits and
batches as the in-memory reader; a changed folder gets a new cache; the files
of a data-parallel run are shared out disjointly and completely."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from test_image_sources import add_bad_files, class_folder, indexed_flat_folder

from vaeapp.data import folder_cache
from vaeapp.data.errors import DataError
from vaeapp.data.folder_cache import (
    INDEX_FILE,
    Decoding,
    StreamedImages,
    build,
    cache_path,
    chunk_owner,
)
from vaeapp.data.folder_index import cache_root, list_folder
from vaeapp.data.image_folder import reading
from vaeapp.data.sources import load_dataset
from vaeapp.train.batches import ShuffledChunks, subset_rows


def _both(folder: Path, cache: Path, **options):
    """The folder read whole into memory, and streamed from a cache."""
    with reading("white") as whole:
        memory = load_dataset("bugs", folder, stream=False, **options)
    with reading("white") as streamed_reading:
        streamed = load_dataset("bugs", folder, cache_dir=cache, **options)
    assert (whole.images, whole.transparent) == (
        streamed_reading.images,
        streamed_reading.transparent,
    )
    return memory, streamed


def _cache_folders(cache: Path) -> list[Path]:
    return sorted((cache / "folders").iterdir())


@pytest.mark.parametrize(
    ("colour", "sizes", "options"),
    [
        (True, [(24, 24), (36, 30)], {"image_size": 16}),
        (True, [(20, 28)], {}),  # one size: kept as it is
        (False, [(24, 24), (30, 36)], {}),  # differing sizes: 32 x 32
        (False, [(20, 20)], {"color": "rgb", "test_share": 0.3}),
        (True, [(20, 20)], {"color": "grey"}),
    ],
)
def test_streamed_folder_equals_the_in_memory_reader(tmp_path, colour, sizes, options):
    """Images, labels, held-out split, class names, shape and notes (skipped
    files, the held-out count) are those the in-memory reader gives."""
    folder = class_folder(tmp_path / "bugs", colour=colour, sizes=sizes)
    memory, streamed = _both(folder, tmp_path / "cache", **options)
    assert isinstance(streamed.x_train, StreamedImages)
    assert streamed.x_train.shape == memory.x_train.shape
    np.testing.assert_array_equal(np.asarray(streamed.x_train), memory.x_train)
    np.testing.assert_array_equal(streamed.x_test, memory.x_test)
    np.testing.assert_array_equal(streamed.y_train, memory.y_train)
    np.testing.assert_array_equal(streamed.y_test, memory.y_test)
    assert streamed.image_shape == memory.image_shape
    assert streamed.class_names == memory.class_names == ("ants", "bees")
    assert streamed.notes == memory.notes
    assert "skipped 5 files" in streamed.notes[0]


def test_a_second_load_reuses_the_cache_and_gives_the_same_data(tmp_path):
    """The second load decodes nothing (the cache's files are unchanged) and
    gives the same images."""
    folder = indexed_flat_folder(tmp_path / "plain", 60)
    first = load_dataset("plain", folder, cache_dir=tmp_path / "cache")
    (cache,) = _cache_folders(tmp_path / "cache")
    stamps = {p: p.stat().st_mtime_ns for p in cache.rglob("*") if p.is_file()}
    second = load_dataset("plain", folder, cache_dir=tmp_path / "cache")
    assert {p: p.stat().st_mtime_ns for p in cache.rglob("*") if p.is_file()} == stamps
    np.testing.assert_array_equal(np.asarray(first.x_train), np.asarray(second.x_train))


def test_streamed_batches_equal_the_in_memory_batches(tmp_path):
    """For the same seed, the chunks of two epochs (a subset of the training
    rows, as --train-size draws it) hold the same float32 images."""
    folder = class_folder(tmp_path / "bugs", colour=True, sizes=[(16, 16)])
    memory, streamed = _both(folder, tmp_path / "cache")
    rows = subset_rows(np.arange(memory.x_train.shape[0]), 40, seed=3)
    made = [
        ShuffledChunks(data.x_train, 8, 2, seed=3, rows=rows)
        for data in (memory, streamed)
    ]
    for _ in range(2):
        for index in range(len(made[0])):
            np.testing.assert_array_equal(made[1][index], made[0][index])
            assert made[1][index].dtype == np.float32
        for chunks in made:
            chunks.on_epoch_end()


@pytest.mark.parametrize("change", ["edit", "add", "remove", "touch"])
def test_a_changed_folder_gets_a_new_cache(tmp_path, change):
    """A file edited, added, removed or only touched names another cache, and
    the data read reflects the change; the first cache is left as it was."""
    folder = indexed_flat_folder(tmp_path / "plain", 40)
    before = load_dataset("plain", folder, cache_dir=tmp_path / "cache")
    target = folder / "img0003.png"
    if change == "edit":
        pixels = np.full((16, 16), 200, np.uint8)
        from PIL import Image

        Image.fromarray(pixels).save(target)
    elif change == "add":
        (folder / "img9999.png").write_bytes(target.read_bytes())
    elif change == "remove":
        target.unlink()
    else:
        stat = target.stat()
        os.utime(target, ns=(stat.st_atime_ns, stat.st_mtime_ns + 10**9))
    after = load_dataset("plain", folder, cache_dir=tmp_path / "cache")
    assert len(_cache_folders(tmp_path / "cache")) == 2
    total = {"add": 41, "remove": 39}.get(change, 40)
    assert after.x_train.shape[0] + after.x_test.shape[0] == total
    whole = load_dataset("plain", folder, stream=False)
    np.testing.assert_array_equal(np.asarray(after.x_train), whole.x_train)
    if change == "edit":
        assert not np.array_equal(np.asarray(after.x_train), before.x_train)


def test_an_interrupted_cache_is_completed_not_trusted(tmp_path):
    """A cache without its index, and with a chunk's record missing, is
    finished by decoding that chunk again; the data is then complete."""
    folder = indexed_flat_folder(tmp_path / "plain", 50)
    whole = load_dataset("plain", folder, stream=False)
    load_dataset("plain", folder, cache_dir=tmp_path / "cache")
    (cache,) = _cache_folders(tmp_path / "cache")
    (cache / INDEX_FILE).unlink()
    (cache / "chunks" / "000000.npz").unlink()
    with open(cache / "images.npy", "r+b") as images:  # lost pixels
        images.seek(200)
        images.write(bytes(500))
    again = load_dataset("plain", folder, cache_dir=tmp_path / "cache")
    np.testing.assert_array_equal(np.asarray(again.x_train), whole.x_train)


def test_a_folder_without_usable_images_is_refused_before_a_cache_is_made(tmp_path):
    """Only bad files: DataError naming the folder, and no cache folder."""
    add_bad_files(tmp_path / "junk")
    with pytest.raises(DataError, match="no usable image"):
        load_dataset("junk", tmp_path / "junk", cache_dir=tmp_path / "cache")
    assert not (tmp_path / "cache").exists()


def test_cache_root_is_the_variable_else_the_user_cache(tmp_path):
    """VAEAPP_CACHE_DIR wins; else XDG_CACHE_HOME/vaeapp; else ~/.cache/vaeapp."""
    assert cache_root({"VAEAPP_CACHE_DIR": str(tmp_path)}) == tmp_path
    assert cache_root({"XDG_CACHE_HOME": str(tmp_path)}) == tmp_path / "vaeapp"
    assert cache_root({}) == Path.home() / ".cache" / "vaeapp"


def test_a_small_folder_is_cut_into_enough_chunks_to_share():
    """At least MIN_CHUNKS chunks where the files allow, at most CHUNK_ROWS
    files in each."""
    assert folder_cache.chunk_rows(1) == 1
    assert folder_cache.chunk_rows(1000) == 16
    assert folder_cache.chunk_rows(200_000) == folder_cache.CHUNK_ROWS


@given(
    chunks=st.lists(st.integers(0, 10_000), max_size=200),
    count=st.integers(1, 16),
)
def test_chunk_owners_share_out_every_chunk_once(chunks, count):
    """Each chunk has exactly one owner among the processes, by its number."""
    owner = chunk_owner(np.array(chunks, np.int64), count)
    shares = [set(np.array(chunks)[owner == p].tolist()) for p in range(count)]
    assert set().union(*shares) == set(chunks)
    assert sum(len(share) for share in shares) == len(set(chunks))


@pytest.mark.parametrize("processes", [2, 3])
def test_process_shares_are_disjoint_cover_the_set_and_stay_in_lockstep(
    tmp_path, monkeypatch, processes
):
    """Each process's training rows lie in its own cache chunks; the shares
    are disjoint and together every training row; one epoch reads only the
    process's own rows; all take the same number of batches."""
    monkeypatch.setattr(folder_cache, "CHUNK_ROWS", 8)
    folder = indexed_flat_folder(tmp_path / "plain", 120)
    data = load_dataset("plain", folder, cache_dir=tmp_path / "cache")
    x = data.x_train
    made = [
        ShuffledChunks(x, 5, 2, seed=1, shard=(p, processes)) for p in range(processes)
    ]
    shares = [set(chunks.rows.tolist()) for chunks in made]
    assert set().union(*shares) == set(range(x.shape[0]))
    assert sum(len(share) for share in shares) == x.shape[0]
    assert len({chunks.steps_per_epoch for chunks in made}) == 1
    for p, chunks in enumerate(made):
        owners = chunk_owner(x.chunks(chunks.rows), processes)
        assert (owners == p).all()
        read = np.concatenate([chunks[i].reshape(-1, 256) for i in range(len(chunks))])
        mine = np.asarray(x)[sorted(shares[p])]
        assert {row.tobytes() for row in read} <= {row.tobytes() for row in mine}


def test_a_process_decodes_only_its_own_chunks(tmp_path, monkeypatch):
    """Process 0 of 2 decodes the even chunks only, then waits for the
    others' records (here: times out, as no process 1 runs)."""
    monkeypatch.setattr(folder_cache, "CHUNK_ROWS", 8)
    folder = indexed_flat_folder(tmp_path / "plain", 40)
    listing = list_folder(folder)
    decoding = Decoding((16, 16), True, "black")
    cache = cache_path(tmp_path / "cache", listing, decoding)
    with pytest.raises(TimeoutError, match="not decoded by the other processes"):
        build(cache, listing, decoding, share=(0, 2), workers=1, wait_s=0.2)
    records = sorted(p.name for p in (cache / "chunks").iterdir())
    assert records == [f"{c:06d}.npz" for c in range(0, 40, 2)]  # 1 file each
    index = build(cache, listing, decoding, share=(1, 2), workers=1, wait_s=5)
    assert (index.files, index.usable, index.skipped) == (40, 40, 0)
