"""A folder's images decoded once into a cache of fixed-size uint8 images, and
read back a batch at a time.

The cache of a folder (named by :func:`vaeapp.data.folder_index.list_folder`'s
digest and the size, colour and background decoded to) is a folder holding:

- ``images.npy``: ``(files, height, width, channels)`` uint8, one row per
  candidate file in listing order (a skipped file's row stays zero). It is an
  ordinary ``.npy``, so ``np.load(path, mmap_mode="r")`` opens it;
- ``chunks/NNNNNN.npz``: per chunk of :func:`chunk_rows` files (CHUNK_ROWS,
  fewer in a folder of under MIN_CHUNKS x CHUNK_ROWS files), which were usable,
  their own sizes, which had transparent pixels or equal red, green and blue,
  and why the first skipped file was skipped. Written atomically after the
  chunk's pixels are on disk: a chunk without it is decoded again;
- ``index.json``: written (atomically) once every chunk is there: the counts,
  the first problem, the sizes seen. A cache is complete when it exists.

Chunks are decoded in parallel worker processes (Pillow, as
:mod:`vaeapp.data.image_folder` decodes: the same images bit for bit). In a
data-parallel run process ``p`` of ``P`` decodes and trains on the chunks
``c`` with ``c % P == p`` only (:func:`chunk_owner`); it waits for the other
processes' chunk records (not their pixels) before the counts are known.

:class:`StreamedImages` reads rows with ``os.preadv`` into the batch's own
buffer, so the process holds no more than the batches it asked for (a memory
map would count every page it touched as resident).
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
import time
from collections.abc import Callable, Iterable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from multiprocessing import get_context
from pathlib import Path
from typing import Any

import numpy as np

from vaeapp.data.folder_index import Listing
from vaeapp.data.image_folder import decode_checked

CHUNK_ROWS = 1024
# A small folder is cut into at least this many chunks, so that the
# processes of a data-parallel run get shares of about equal size.
MIN_CHUNKS = 64
INDEX_FILE = "index.json"
IMAGES_FILE = "images.npy"
WAIT_POLL_S = 0.5
DEFAULT_WAIT_S = 24 * 3600  # for the other processes' chunks


@dataclass(frozen=True)
class Decoding:
    """How a folder's images are decoded: ``size`` (width, height), grey or
    RGB, and the background transparent pixels become."""

    size: tuple[int, int]
    grey: bool
    background: str

    @property
    def shape(self) -> tuple[int, int, int]:
        """``(height, width, channels)`` of a cached image."""
        return (self.size[1], self.size[0], 1 if self.grey else 3)

    def tag(self) -> str:
        """The part of a cache's name that says how it was decoded."""
        colour = "grey" if self.grey else "rgb"
        return f"{self.size[0]}x{self.size[1]}-{colour}-{self.background}"


@dataclass(frozen=True)
class CacheIndex:
    """What a complete cache holds (``index.json``)."""

    files: int
    usable: int
    skipped: int
    first_problem: str | None
    transparent: int  # usable images with a transparent pixel
    all_equal: bool  # every usable image has equal red, green and blue
    sizes: tuple[tuple[int, int], ...]  # the usable images' own sizes, sorted

    def as_json(self) -> str:
        """The index as ``index.json`` holds it."""
        fields = dict(self.__dict__, sizes=[list(s) for s in self.sizes])
        return json.dumps(fields, sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> CacheIndex:
        """The index read back from ``index.json``'s text."""
        value = json.loads(text)
        value["sizes"] = tuple(tuple(s) for s in value["sizes"])
        return cls(**value)


def chunk_owner(chunks: np.ndarray, count: int) -> np.ndarray:
    """Which of ``count`` processes owns each chunk number: ``chunk % count``."""
    return np.asarray(chunks) % count


def cache_path(root: Path, listing: Listing, decoding: Decoding) -> Path:
    """The cache folder of ``listing`` decoded as ``decoding``."""
    return root / "folders" / f"{listing.digest[:32]}-{decoding.tag()}"


def _header(shape: tuple[int, ...]) -> bytes:
    """The ``.npy`` header of a C-ordered uint8 array of ``shape``."""
    header = {"descr": "|u1", "fortran_order": False, "shape": shape}
    text = repr(header).encode("latin1")
    pad = 64 - (len(text) + 11) % 64  # magic (6) + version (2) + length (2) + \n
    return (
        b"\x93NUMPY\x01\x00"
        + (len(text) + pad + 1).to_bytes(2, "little")
        + (text + b" " * pad + b"\n")
    )


def _write_atomic(path: Path, write: Callable[[Any], None], mode: str = "wb") -> None:
    # A temporary name of its own (not one per process id): two threads of a
    # process, or two processes, may finish the same cache file at once.
    fd, temporary = tempfile.mkstemp(
        prefix=f".{path.name}.", suffix=".tmp", dir=path.parent
    )
    try:
        with os.fdopen(fd, mode) as out:
            os.fchmod(out.fileno(), 0o644)
            write(out)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def _chunk_record(folder: Path, chunk: int) -> Path:
    return folder / "chunks" / f"{chunk:06d}.npz"


def _decode_chunk(
    cache: str,
    source: str,
    paths: list[str],
    first: int,
    decoding: Decoding,
    chunk: int,
) -> None:
    """Decode ``paths`` (rows ``first ..``) into the cache's images file, then
    write the chunk's record."""
    shape = decoding.shape
    block = np.zeros((len(paths), *shape), np.uint8)
    ok = np.zeros(len(paths), bool)
    transparent = np.zeros(len(paths), bool)
    equal = np.zeros(len(paths), bool)
    sizes = np.zeros((len(paths), 2), np.int32)
    problems: list[str] = []
    for i, name in enumerate(paths):
        pixels, own, clear, problem = decode_checked(
            Path(source) / name, decoding.size, decoding.grey, decoding.background
        )
        if pixels is None or own is None:
            problems.append(problem or name)
            continue
        block[i] = pixels.reshape(shape)
        ok[i], transparent[i], sizes[i] = True, clear, own
        equal[i] = decoding.grey or bool((pixels[..., :1] == pixels[..., 1:]).all())
    store_chunk(
        Path(cache),
        chunk,
        first,
        block,
        ChunkRecord(ok, transparent, equal, sizes, len(problems), problems[:1]),
    )


@dataclass(frozen=True)
class ChunkRecord:
    """What a chunk's record says of its ``k`` rows: ``ok``, ``transparent``
    and ``equal`` (red, green and blue equal) ``(k,)`` bool, the images' own
    ``sizes`` ``(k, 2)`` (width, height), how many were ``skipped`` and why
    the first was (``problems``: nothing or one line)."""

    ok: np.ndarray
    transparent: np.ndarray
    equal: np.ndarray
    sizes: np.ndarray
    skipped: int
    problems: list[str]


def store_chunk(
    cache: Path, chunk: int, first: int, block: np.ndarray | None, record: ChunkRecord
) -> None:
    """Write the pixels ``block`` ``(k, height, width, channels)`` uint8 of
    rows ``first ..`` into the cache's images file (None: the cache keeps
    no pixels), then the chunk's record, atomically: a chunk is done when
    its record is there."""
    if block is not None:
        images = cache / IMAGES_FILE
        fd = os.open(images, os.O_WRONLY)
        try:
            offset = _data_offset(images) + first * block[0].size
            os.pwrite(fd, block.tobytes(), offset)
            os.fdatasync(fd)
        finally:
            os.close(fd)
    _write_atomic(
        _chunk_record(cache, chunk),
        lambda out: np.savez(
            out,
            ok=record.ok,
            transparent=record.transparent,
            equal=record.equal,
            sizes=record.sizes,
            skipped=np.array(record.skipped),
            first_problem=np.array(record.problems[0] if record.problems else ""),
        ),
    )


def _data_offset(images: Path) -> int:
    """Where the pixels start in the ``.npy`` file ``images``."""
    with open(images, "rb") as source:
        np.lib.format.read_magic(source)
        np.lib.format.read_array_header_1_0(source)
        return source.tell()


def _prepare(folder: Path, files: int, shape: tuple[int, int, int] | None) -> None:
    """The cache folder with an images file of the full size (zeros where
    nothing is decoded yet; ``shape`` None: no images file); safe when
    several processes do it at once."""
    (folder / "chunks").mkdir(parents=True, exist_ok=True)
    if shape is None:
        return
    header = _header((files, *shape))
    total = len(header) + files * int(np.prod(shape))
    fd = os.open(folder / IMAGES_FILE, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        os.pwrite(fd, header, 0)  # the same bytes whoever writes them
        if os.fstat(fd).st_size < total:
            os.ftruncate(fd, total)
    finally:
        os.close(fd)


def chunk_rows(files: int) -> int:
    """Files per chunk of a folder of ``files``: CHUNK_ROWS, or fewer so that
    there are at least MIN_CHUNKS chunks (at least 1 file each)."""
    return max(1, min(CHUNK_ROWS, -(-files // MIN_CHUNKS)))


def _chunks(files: int) -> range:
    rows = chunk_rows(files)
    return range((files + rows - 1) // rows)


def build(
    folder: Path,
    listing: Listing,
    decoding: Decoding,
    *,
    share: tuple[int, int] = (0, 1),
    workers: int = 0,
    wait_s: float = DEFAULT_WAIT_S,
) -> CacheIndex:
    """The complete cache of ``listing`` decoded as ``decoding`` in the cache
    folder ``folder``: reused when complete, else this process's missing
    chunks (``share``: index and count of processes) are decoded with
    ``workers`` processes (0: one per CPU), and the others' awaited.
    Raises TimeoutError when another process's chunks take over ``wait_s``."""

    def decode(chunks: list[int]) -> None:
        _decode_chunks(folder, listing, decoding, chunks, workers)

    return build_chunks(
        folder, len(listing), decoding.shape, decode, share=share, wait_s=wait_s
    )


def build_chunks(
    folder: Path,
    files: int,
    shape: tuple[int, int, int] | None,
    decode: Callable[[list[int]], None],
    *,
    share: tuple[int, int] = (0, 1),
    wait_s: float = DEFAULT_WAIT_S,
) -> CacheIndex:
    """The complete cache in ``folder`` of ``files`` rows of images of
    ``shape`` (None: records only, no pixels): reused when complete, else
    ``decode`` is given this process's missing chunk numbers (``share``:
    index and count of processes; it calls :func:`store_chunk` for each) and
    the other processes' chunks are awaited. Raises TimeoutError when they
    take over ``wait_s``."""
    index_file = folder / INDEX_FILE
    if index_file.exists():
        return CacheIndex.from_json(index_file.read_text())
    _prepare(folder, files, shape)
    part, count = share
    missing = [
        c
        for c in _chunks(files)
        if c % count == part and not _chunk_record(folder, c).exists()
    ]
    if missing:
        decode(missing)
    _await(folder, files, wait_s)
    index = _merge(folder, files)
    _write_atomic(index_file, lambda out: out.write(index.as_json()), "w")
    return index


def _decode_chunks(
    folder: Path,
    listing: Listing,
    decoding: Decoding,
    chunks: list[int],
    workers: int,
) -> None:
    if not chunks:
        return
    rows = chunk_rows(len(listing))
    jobs = [
        (
            str(folder),
            str(listing.folder),
            list(listing.paths[c * rows : (c + 1) * rows]),
            c * rows,
            decoding,
            c,
        )
        for c in chunks
    ]
    workers = min(workers or os.cpu_count() or 1, len(jobs))
    if workers == 1:
        for job in jobs:
            _decode_chunk(*job)
        return
    # Forked unless TensorFlow or JAX is loaded: forking their threads' locks
    # can deadlock, so then the workers are spawned.
    engines = {"tensorflow", "jax"} & set(sys.modules)
    context = get_context("spawn" if engines else "fork")
    with ProcessPoolExecutor(workers, mp_context=context) as pool:
        for done in [pool.submit(_decode_chunk, *job) for job in jobs]:
            done.result()


def _await(folder: Path, files: int, wait_s: float) -> None:
    deadline = time.monotonic() + wait_s
    waiting = [c for c in _chunks(files) if not _chunk_record(folder, c).exists()]
    while waiting:
        if time.monotonic() > deadline:
            raise TimeoutError(
                f"{len(waiting)} chunks of {folder} were not decoded by the other "
                f"processes within {wait_s:.0f} s"
            )
        time.sleep(WAIT_POLL_S)
        waiting = [c for c in waiting if not _chunk_record(folder, c).exists()]


def _records(folder: Path, files: int) -> Iterable[dict[str, np.ndarray]]:
    for chunk in _chunks(files):
        with np.load(_chunk_record(folder, chunk)) as record:
            yield {key: record[key] for key in record.files}


def _merge(folder: Path, files: int) -> CacheIndex:
    usable = skipped = transparent = 0
    all_equal = True
    first_problem: str | None = None
    sizes: set[tuple[int, int]] = set()
    for record in _records(folder, files):
        ok = record["ok"]
        usable += int(ok.sum())
        skipped += int(record["skipped"])
        transparent += int(record["transparent"].sum())
        all_equal = all_equal and bool(record["equal"][ok].all())
        sizes |= {(int(w), int(h)) for w, h in record["sizes"][ok]}
        if first_problem is None and str(record["first_problem"]):
            first_problem = str(record["first_problem"])
    return CacheIndex(
        files=files,
        usable=usable,
        skipped=skipped,
        first_problem=first_problem,
        transparent=transparent,
        all_equal=all_equal,
        sizes=tuple(sorted(sizes)),
    )


def usable_rows(folder: Path, files: int) -> np.ndarray:
    """The rows (listing positions) of the usable files, ascending, int64."""
    parts = [
        np.flatnonzero(record["ok"]) + chunk * chunk_rows(files)
        for chunk, record in enumerate(_records(folder, files))
    ]
    return np.concatenate(parts).astype(np.int64) if parts else np.zeros(0, np.int64)


class StreamedImages:
    """Images of a cache read on demand, as a ``(n, height * width *
    channels)`` float32 array in [0, 1] would be indexed: ``x[rows]`` for an
    integer array or slice of rows gives that float32 array; ``np.asarray(x)``
    reads them all (for small sets and tests). ``rows`` are the cache rows
    of these images, stored ``shape`` ``(height, width, channels)`` uint8 row
    after row from byte ``offset`` of ``images`` (default: the start of the
    data of the ``.npy`` file ``images``). ``channels`` 1 of RGB images keeps
    the red channel (the images are grey), or with ``grey_weights`` (3,)
    mixes the channels in float32; ``channels`` 3 of grey images repeats the
    one channel.

    ``by_chunks``: in a data-parallel run each process trains on the chunks
    it owns (a folder: each decoded only those). False (an array file, any
    row as cheap to read as any other): each takes its part of every global
    batch, as for an array in memory, so the run keeps the weights of one
    process with the global batch; each still reads only its own rows."""

    dtype = np.dtype(np.float32)
    ndim = 2

    def __init__(
        self,
        images: Path,
        rows: np.ndarray,
        shape: tuple[int, int, int],
        channels: int,
        per_chunk: int = CHUNK_ROWS,
        *,
        offset: int | None = None,
        grey_weights: np.ndarray | None = None,
        by_chunks: bool = True,
    ) -> None:
        self.images = images
        self.by_chunks = by_chunks
        self.per_chunk = per_chunk
        self.rows = np.asarray(rows, np.int64)
        self.stored = shape
        self.channels = channels
        self.grey_weights = grey_weights
        self._offset = _data_offset(images) if offset is None else offset
        self._fd: int | None = None
        self._pid = 0

    @property
    def shape(self) -> tuple[int, int]:
        """``(n, height * width * channels)``."""
        height, width, _ = self.stored
        return (self.rows.size, height * width * self.channels)

    @property
    def image_shape(self) -> tuple[int, int, int]:
        """``(height, width, channels)`` of one image as read."""
        return (*self.stored[:2], self.channels)

    def __len__(self) -> int:
        return int(self.rows.size)

    def __getstate__(self) -> dict[str, Any]:
        return dict(self.__dict__, _fd=None, _pid=0)

    def _file(self) -> int:
        if self._fd is None or self._pid != os.getpid():
            self._fd, self._pid = os.open(self.images, os.O_RDONLY), os.getpid()
        return self._fd

    def close(self) -> None:
        """Close the images file (it opens again when read)."""
        if self._fd is not None and self._pid == os.getpid():
            os.close(self._fd)
        self._fd = None

    def __del__(self) -> None:
        self.close()

    def take(self, index: np.ndarray) -> StreamedImages:
        """The images ``index`` (positions in this set) as their own set."""
        return StreamedImages(
            self.images,
            self.rows[index],
            self.stored,
            self.channels,
            self.per_chunk,
            offset=self._offset,
            grey_weights=self.grey_weights,
            by_chunks=self.by_chunks,
        )

    def chunks(self, index: np.ndarray) -> np.ndarray:
        """The cache chunk each of the images ``index`` lies in."""
        return self.rows[index] // self.per_chunk

    def stored_uint8(self, index: np.ndarray | slice) -> np.ndarray:
        """The images ``index`` as stored: ``(k, *shape)`` uint8."""
        rows = self.rows[index]
        out = np.empty((rows.size, *self.stored), np.uint8)
        size = int(np.prod(self.stored))
        flat = memoryview(out.reshape(-1))
        fd = self._file()
        for i, row in enumerate(rows.tolist()):
            view = flat[i * size : (i + 1) * size]
            got = os.preadv(fd, [view], self._offset + row * size)
            if got != size:
                raise OSError(f"{self.images} is shorter than its header says")
        return out

    def uint8(self, index: np.ndarray | slice) -> np.ndarray:
        """The images ``index`` as ``(k, height, width, channels)`` uint8
        (channels mixed with ``grey_weights`` are not uint8: see ``x[index]``)."""
        out = self.stored_uint8(index)
        if self.channels > self.stored[2]:
            return np.repeat(out, self.channels, axis=3)
        return out[..., : self.channels] if self.channels < self.stored[2] else out

    def __getitem__(self, index: Any) -> np.ndarray:
        if isinstance(index, tuple):
            return np.asarray(self)[index]
        if np.isscalar(index):
            return self[np.array([index])][0]
        if self.grey_weights is not None:
            pixels = self.stored_uint8(index).astype(np.float32) / np.float32(255)
            grey = np.tensordot(pixels, self.grey_weights, axes=([3], [0]))
            return grey.reshape(grey.shape[0], self.shape[1])
        pixels = self.uint8(index)
        flat = pixels.reshape(pixels.shape[0], self.shape[1])
        return flat.astype(np.float32) / np.float32(255)

    def __array__(self, dtype: Any = None, copy: Any = None) -> np.ndarray:
        values = self[np.arange(len(self))]
        return values if dtype is None else values.astype(dtype)
