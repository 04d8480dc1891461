"""The images of an ``.npz`` or IDX file read as a stream, never loaded whole.

An image array (``x_train``, ``x_test``) of uint8 pixels lies in its file in
one of two ways:

- **raw** (an ``np.savez`` member, which zip stores uncompressed; a plain IDX
  file): its rows are read straight from the file at their offset with
  :class:`vaeapp.data.folder_cache.StreamedImages`, as a folder's cache is.
  Nothing is copied; only the ``--color auto`` question "are red, green and
  blue equal in every image?" needs a pass, which the processes of a
  data-parallel run share chunk by chunk (a cache of chunk records only);
- **compressed** (an ``np.savez_compressed`` member, a ``.gz`` IDX file):
  inflated once, in order, into a uint8 cache of the same kind an image folder
  gets (:mod:`vaeapp.data.folder_cache`), then read from there. Deflate cannot
  start in the middle, so every process inflates the whole stream, but writes
  only its own chunks.

Images that ``--image-size`` scales go through the cache too (raw or
compressed), scaled exactly as the in-memory reader scales them
(:func:`fit_uint8`). A cache is named by the file's size, modification time and
(where the file records one) CRC, and by the size it holds, under
``<cache root>/arrays/``; it is reused only when complete.

Memory: one chunk (:func:`vaeapp.data.folder_cache.chunk_rows`, at most
1,024 images) of the cache's images and one block of BLOCK_BYTES read from the
file at a time, whatever the file's size.
"""

from __future__ import annotations

import gzip
import hashlib
import math
import os
import shutil
import struct
import sys
import zipfile
import zlib
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import IO, TypeVar

import numpy as np
from PIL import Image, ImageOps

from vaeapp.core.safe_json import one_line
from vaeapp.data.array_files import (
    check_npz,
    idx_header,
    idx_length_error,
)
from vaeapp.data.errors import DataError
from vaeapp.data.folder_cache import (
    IMAGES_FILE,
    INDEX_FILE,
    ChunkRecord,
    build_chunks,
    chunk_rows,
    store_chunk,
)

BLOCK_BYTES = 16 << 20  # read from the file at a time
# One image larger than this (4096x4096 RGB is 48 MB) is read by the in-memory
# reader, within its memory budget: a chunk holds at least one image.
MAX_IMAGE_BYTES = 64 << 20
IMAGE_KEYS = ("x_train", "x_test")
T = TypeVar("T")


@dataclass(frozen=True)
class ImageArray:
    """uint8 images ``shape`` ``(n, height, width, channels)`` stored row
    after row in the file ``path``: raw from byte ``offset``, or (``offset``
    None) compressed, in the zip ``member`` or (None) the gzip file, after
    ``skip`` bytes of header. ``key`` names the file's content in a cache's
    name."""

    path: Path
    shape: tuple[int, int, int, int]
    offset: int | None
    member: str | None
    skip: int
    key: str

    @property
    def row_bytes(self) -> int:
        """Bytes of one image."""
        return math.prod(self.shape[1:])


@dataclass(frozen=True)
class Streamed:
    """Where an array's images are read from, as :class:`StreamedImages`
    takes them: the ``file`` from byte ``offset`` (None: an ``.npy`` file's
    data), images ``shape`` ``(height, width, channels)``, ``per_chunk``
    images per chunk; and whether red, green and blue are equal in every
    image (``all_equal``, False when not asked)."""

    file: Path
    offset: int | None
    shape: tuple[int, int, int]
    per_chunk: int
    all_equal: bool


def npz_images(path: Path) -> dict[str, ImageArray]:
    """The image arrays of the .npz at ``path`` (IMAGE_KEYS present), when
    every one is uint8 in C order of shape ``(n, h, w)`` or ``(n, h, w, 1 or
    3)`` with n >= 1; else nothing (the in-memory reader then reads and
    checks them, within its memory budget). Raises DataError for a file that
    is not a zip of plain .npy arrays."""
    check_npz(path, budget=sys.maxsize)  # the members' structure, not the sum
    stat = path.stat()
    found = {}
    try:
        with zipfile.ZipFile(path) as archive:
            for key in IMAGE_KEYS:
                if f"{key}.npy" not in archive.namelist():
                    continue
                info = archive.getinfo(f"{key}.npy")
                array = _npz_member(path, archive, info, stat)
                if array is None:
                    return {}
                found[key] = array
    except (OSError, zipfile.BadZipFile) as error:
        raise _npz_error(path, one_line(error)) from None
    return found


def _npz_member(
    path: Path, archive: zipfile.ZipFile, info: zipfile.ZipInfo, stat: os.stat_result
) -> ImageArray | None:
    """Where the member ``info`` keeps its images, or None when they are no
    streamable uint8 images."""
    with archive.open(info) as member:
        version = np.lib.format.read_magic(member)
        read = (
            np.lib.format.read_array_header_1_0
            if version == (1, 0)
            else np.lib.format.read_array_header_2_0
        )
        shape, fortran, dtype = read(member)
        header = member.tell()
    images = _image_shape(shape)
    if images is None or fortran or dtype != np.uint8:
        return None
    key = _key(stat, info.filename, info.CRC)
    if info.compress_type != zipfile.ZIP_STORED:
        return ImageArray(path, images, None, info.filename, header, key)
    offset = _stored_offset(path, info) + header
    if offset + math.prod(images) > stat.st_size:
        raise _npz_error(path, f"{one_line(info.filename, 80)} is cut short")
    return ImageArray(path, images, offset, None, 0, key)


def _stored_offset(path: Path, info: zipfile.ZipInfo) -> int:
    """Where the stored member ``info``'s bytes begin in the zip: after its
    local header (zipfile's own layout constants) and the name and extra
    field that header declares."""
    with open(path, "rb") as source:
        source.seek(info.header_offset)
        fixed = source.read(zipfile.sizeFileHeader)
    if len(fixed) != zipfile.sizeFileHeader:
        raise _npz_error(path, "a member's header is cut short")
    fields = struct.unpack(zipfile.structFileHeader, fixed)
    if fields[0] != zipfile.stringFileHeader:
        raise _npz_error(path, "a member's header is damaged")
    name_length, extra_length = fields[-2:]
    return info.header_offset + zipfile.sizeFileHeader + name_length + extra_length


def idx_images(path: Path) -> ImageArray | None:
    """The images of the IDX file ``path`` (``.gz`` or plain), or None when it
    holds no images (the in-memory reader then refuses it). Raises
    DataError for a file that is no IDX file or not of its declared size."""
    stat = path.stat()
    if path.suffix != ".gz":
        with open(path, "rb") as source:
            shape, skip = idx_header(source.read(16), path)
        stored = stat.st_size - skip
        if stored != math.prod(shape):
            raise idx_length_error(path, stored, math.prod(shape))
        images = _image_shape(shape)
        key = _key(stat, path.name, 0)
        return None if images is None else ImageArray(path, images, skip, None, 0, key)
    try:
        with gzip.open(path, "rb") as source:
            shape, skip = idx_header(source.read(16), path)
        with open(path, "rb") as source:
            source.seek(max(0, stat.st_size - 8))
            trailer = int.from_bytes(source.read(8), "little")  # CRC32, length
    except (OSError, EOFError, zlib.error) as error:
        raise DataError(f"cannot read {path}: {error}") from None
    images = _image_shape(shape)
    key = _key(stat, path.name, trailer)
    return None if images is None else ImageArray(path, images, None, None, skip, key)


def _image_shape(shape: tuple[int, ...]) -> tuple[int, int, int, int] | None:
    if len(shape) == 3:
        shape = (*shape, 1)
    if len(shape) != 4 or shape[3] not in (1, 3) or 0 in shape:
        return None
    if math.prod(shape[1:]) > MAX_IMAGE_BYTES:
        return None
    return (shape[0], shape[1], shape[2], shape[3])


def _key(stat: os.stat_result, name: str, check: int) -> str:
    text = f"{stat.st_size}-{stat.st_mtime_ns}-{stat.st_ino}-{name}-{check}"
    return hashlib.sha256(text.encode()).hexdigest()[:32]


def _npz_error(path: Path, reason: str) -> DataError:
    return DataError(f"cannot read {path} as an .npz file: {reason}")


def fit_uint8(pixels: np.ndarray, side: int) -> np.ndarray:
    """Each image of ``pixels`` ``(k, h, w, c)`` uint8 scaled (Lanczos) to
    cover ``side`` square and centre-cropped: ``(k, side, side, c)`` uint8."""
    if pixels.shape[1:3] == (side, side):
        return pixels
    mode = "L" if pixels.shape[3] == 1 else "RGB"
    out = np.empty((pixels.shape[0], side, side, pixels.shape[3]), np.uint8)
    for i, image in enumerate(pixels):
        picture = Image.fromarray(image[..., 0] if mode == "L" else image, mode)
        fitted = ImageOps.fit(picture, (side, side), Image.Resampling.LANCZOS)
        out[i] = np.asarray(fitted).reshape(side, side, -1)
    return out


def stream(
    array: ImageArray,
    side: int,
    equal: bool,
    root: Path,
    share: tuple[int, int] = (0, 1),
) -> Streamed:
    """Where to read ``array``'s images at ``side`` square (0: their own
    size) from, caching them under ``root`` when they are compressed or
    scaled (``share``: this process's part of the chunks). ``equal``: find
    out whether every image has equal red, green and blue. Raises DataError
    for a file that ends early or is damaged."""
    count, height, width, channels = array.shape
    scaled = bool(side) and (height, width) != (side, side)
    shape = (side, side, channels) if scaled else (height, width, channels)
    per_chunk = chunk_rows(count)
    pixels = scaled or array.offset is None
    if not pixels and not (equal and channels == 3):
        return Streamed(array.path, array.offset, shape, per_chunk, False)
    tag = f"{shape[0]}x{shape[1]}x{channels}-{'pixels' if pixels else 'records'}"
    folder = root / "arrays" / f"{array.key}-{tag}"

    if pixels:
        _check_room(array, folder, count * math.prod(shape))

    def decode(chunks: list[int]) -> None:
        _decode(array, folder, chunks, side if scaled else 0, pixels)

    index = build_chunks(folder, count, shape if pixels else None, decode, share=share)
    if pixels:
        return Streamed(folder / IMAGES_FILE, None, shape, per_chunk, index.all_equal)
    return Streamed(array.path, array.offset, shape, per_chunk, index.all_equal)


def _check_room(array: ImageArray, folder: Path, size: int) -> None:
    """Refuse to make a cache of ``size`` bytes in ``folder`` that its disk
    has no room for (a small compressed file may declare any size)."""
    if (folder / INDEX_FILE).exists():
        return
    existing = next(p for p in (folder, *folder.parents) if p.exists())
    free = shutil.disk_usage(existing).free
    if size > free:
        raise DataError(
            f"the images of {array.path} take {size:,} bytes uncompressed; the "
            f"cache folder {existing} has {free:,} bytes free: free some space "
            "or point VAEAPP_CACHE_DIR elsewhere"
        )


def _decode(
    array: ImageArray, cache: Path, chunks: list[int], side: int, pixels: bool
) -> None:
    """Write the chunks ``chunks`` of ``array`` (scaled to ``side``, 0: not)
    into the cache ``cache``: their pixels (``pixels``) and records."""
    per_chunk, count = chunk_rows(array.shape[0]), array.shape[0]
    wanted = set(chunks)
    with _reader(array) as read:
        for chunk in range((count + per_chunk - 1) // per_chunk):
            first = chunk * per_chunk
            rows = range(first, min(first + per_chunk, count))
            if chunk not in wanted:
                continue  # raw: never read; compressed: inflated and dropped
            block = _chunk(read, rows, array.row_bytes, array.shape[1:], side)
            record = _record(block, array.shape[1:3])
            store_chunk(cache, chunk, first, block if pixels else None, record)


def _chunk(
    read: Callable[[int, int], np.ndarray],
    rows: range,
    row_bytes: int,
    shape: tuple[int, ...],
    side: int,
) -> np.ndarray:
    """The images ``rows`` ``(k, ...)`` uint8, scaled to ``side`` (0: not),
    read BLOCK_BYTES at a time."""
    step = max(1, BLOCK_BYTES // row_bytes)
    parts = []
    for start in range(rows.start, rows.stop, step):
        stop = min(start + step, rows.stop)
        block = read(start, stop).reshape(stop - start, *shape)
        parts.append(fit_uint8(block, side) if side else block)
    return np.concatenate(parts)


def _record(block: np.ndarray, size: tuple[int, int]) -> ChunkRecord:
    count = block.shape[0]
    if block.shape[3] == 3:
        flat = block.reshape(count, -1, 3)
        equal = ((flat[..., :1] == flat[..., 1:]).all(axis=(1, 2))).astype(bool)
    else:
        equal = np.ones(count, bool)
    sizes = np.tile(np.array([size[1], size[0]], np.int32), (count, 1))
    return ChunkRecord(np.ones(count, bool), np.zeros(count, bool), equal, sizes, 0, [])


@contextmanager
def _reader(array: ImageArray) -> Iterator[Callable[[int, int], np.ndarray]]:
    """A function ``read(start, stop)`` of rows as bytes ``(k * row,)`` uint8:
    any rows of a raw array; of a compressed one, rows in increasing order
    (the rows between are inflated and dropped). A compressed stream is read
    to its end on leaving, so that its check (zip's CRC, gzip's length and
    CRC) covers every byte. Raises DataError."""
    if array.offset is not None:
        offset = array.offset
        fd = os.open(array.path, os.O_RDONLY)
        try:
            yield lambda start, stop: _pread(array, fd, offset, start, stop)
        finally:
            os.close(fd)
        return
    with ExitStack() as stack:
        source = _guarded(array, lambda: stack.enter_context(_open_compressed(array)))
        _guarded(array, lambda: source.read(array.skip))
        position = [0]
        yield lambda start, stop: _guarded(
            array, lambda: _inflate(array, source, position, start, stop)
        )
        _guarded(array, lambda: _read_to_end(array, source, position[0]))


def _guarded(array: ImageArray, read: Callable[[], T]) -> T:
    """``read()``, its errors of reading a damaged file as one DataError."""
    try:
        return read()
    except (OSError, EOFError, zlib.error, zipfile.BadZipFile) as error:
        if array.member is not None:
            raise _npz_error(array.path, one_line(error)) from None
        raise DataError(f"cannot read {array.path}: {error}") from None


@contextmanager
def _open_compressed(array: ImageArray) -> Iterator[IO[bytes]]:
    if array.member is None:
        with gzip.open(array.path, "rb") as source:
            yield source
        return
    with zipfile.ZipFile(array.path) as archive, archive.open(array.member) as source:
        yield source


def _pread(
    array: ImageArray, fd: int, offset: int, start: int, stop: int
) -> np.ndarray:
    size = (stop - start) * array.row_bytes
    out = np.empty(size, np.uint8)
    got = os.preadv(fd, [memoryview(out)], offset + start * array.row_bytes)
    if got != size:
        raise DataError(f"{array.path} ends before its last image")
    return out


def _inflate(
    array: ImageArray, source: IO[bytes], position: list[int], start: int, stop: int
) -> np.ndarray:
    """Rows ``start .. stop`` of the compressed ``source``, now at row
    ``position[0]`` (rows before ``start`` are dropped)."""
    while position[0] < start:
        step = min(start - position[0], max(1, BLOCK_BYTES // array.row_bytes))
        _exact(array, source, step * array.row_bytes, position[0])
        position[0] += step
    data = _exact(array, source, (stop - start) * array.row_bytes, start)
    position[0] = stop
    return np.frombuffer(data, np.uint8)


def _exact(array: ImageArray, source: IO[bytes], size: int, row: int) -> bytes:
    data = source.read(size)
    if len(data) != size:
        stored = row * array.row_bytes + len(data) + _drain(source)
        raise idx_length_error(array.path, stored, math.prod(array.shape))
    return data


def _read_to_end(array: ImageArray, source: IO[bytes], row: int) -> None:
    left = array.shape[0] - row
    if left:
        _inflate(array, source, [row], array.shape[0], array.shape[0])
    extra = _drain(source)
    if extra:
        stored = math.prod(array.shape) + extra
        raise idx_length_error(array.path, stored, math.prod(array.shape))


def _drain(source: IO[bytes]) -> int:
    total = 0
    while data := source.read(BLOCK_BYTES):
        total += len(data)
    return total
