"""The held-out images the map shows under the pointer, sent to the browser
lazily in chunks: CHUNK_IMAGES images a chunk, raw uint8, named by content.

Chunk ``i`` holds test images ``i * CHUNK_IMAGES`` up to the next chunk's
first (the last chunk may be shorter), each ``h * w * c`` bytes in
channels-last reading order, one after the other: the browser finds image
``k`` at byte ``(k % CHUNK_IMAGES) * h * w * c`` of chunk ``k // CHUNK_IMAGES``.
A name carries a hash of the bytes, so the browser may cache a chunk for ever
(the page publishes them as static files, :mod:`vaeapp.ui.static_files`).
Recently made chunks are kept in a cache bounded by CACHE_BYTES.

The images are the model's first :attr:`LoadedModel.image_count` held-out
images: those its folder stores, then those of its image folder's cache on
this server (:meth:`LoadedModel.point_images`), so a map of a million points
shows every one of them where the server has the data.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
import threading
import weakref
from collections import OrderedDict
from pathlib import Path

import numpy as np

from vaeapp.store.records import LoadedModel

CHUNK_IMAGES = 1024
CHUNK_STEM, CHUNK_SUFFIX = "images", "bin"
CACHE_BYTES = 64_000_000  # about 80 chunks of MNIST images

# (id of the model, chunk) -> (a weak reference to the model, bytes, name): a
# dead reference marks an entry whose id may have been reused; the cache does
# not keep a model (up to a million points) alive.
_cache: OrderedDict[tuple[int, int], tuple[weakref.ref, bytes, str]] = OrderedDict()
_cache_lock = threading.Lock()


def images_note(model: LoadedModel) -> str | None:
    """Why ``model`` has no real images to show under the pointer for some
    or all of its points (the hover then shows the decoded image only), or
    None when it has them all."""
    count, points = model.image_count, model.labels.shape[0]
    if count == points:
        return None
    cache = model.image_cache_note or "its data set is not on this server"
    if count == 0:
        return (
            "this model's folder holds no test images and the server has no "
            "copy of its data set's test set: the map shows decoded images only"
        )
    return (
        f"the model folder stores the first {count:,} of its {points:,} test "
        f"images and {cache}: beyond them the map shows decoded images only"
    )


def image_count(model: LoadedModel) -> int:
    """How many of ``model``'s points (the first ones) have real images."""
    return model.image_count


def chunk_count(model: LoadedModel) -> int:
    """How many chunks ``model``'s test images make (0 without images)."""
    return -(-model.image_count // CHUNK_IMAGES)


def _check_index(model: LoadedModel, index: object) -> int:
    count = chunk_count(model)
    if count == 0:
        raise ValueError(images_note(model))
    if isinstance(index, bool) or not isinstance(index, (int, np.integer)):
        raise ValueError(f"a chunk index must be a whole number, got {index!r:.40}")
    if not 0 <= index < count:
        raise ValueError(f"a chunk index must be 0 to {count - 1}, got {index}")
    return int(index)


def _chunk(model: LoadedModel, index: object) -> tuple[bytes, str]:
    """``(bytes, name)`` of chunk ``index``, from the cache or made."""
    index = _check_index(model, index)
    key = (id(model), index)
    with _cache_lock:
        hit = _cache.get(key)
        if hit is not None and hit[0]() is model:
            _cache.move_to_end(key)
            return hit[1], hit[2]
    rows = model.point_images(slice(index * CHUNK_IMAGES, (index + 1) * CHUNK_IMAGES))
    data = np.ascontiguousarray(rows, np.uint8).tobytes()
    name = f"{CHUNK_STEM}.{hashlib.sha256(data).hexdigest()[:16]}.{CHUNK_SUFFIX}"
    with _cache_lock:
        _cache[key] = (weakref.ref(model), data, name)
        total = sum(len(entry[1]) for entry in _cache.values())
        while total > CACHE_BYTES and len(_cache) > 1:
            _, (_, old, _) = _cache.popitem(last=False)
            total -= len(old)
    return data, name


def image_chunk(model: LoadedModel, index: int) -> bytes:
    """The bytes of chunk ``index`` of ``model``'s test images: up to
    CHUNK_IMAGES images of ``h * w * c`` uint8 each. Raises ValueError for an
    index outside 0 to ``chunk_count(model) - 1``, or saying why the model
    has no images (:func:`images_note`)."""
    return _chunk(model, index)[0]


def chunk_name(model: LoadedModel, index: int) -> str:
    """The file name of chunk ``index``: ``images.<16 hex digits of the
    SHA-256 of its bytes>.bin``. Raises ValueError as :func:`image_chunk`."""
    return _chunk(model, index)[1]


def write_chunk(model: LoadedModel, index: int, folder: Path) -> Path:
    """Write chunk ``index`` into ``folder`` under :func:`chunk_name` (once:
    a file of that name holds those bytes already) and return its path; the
    write is atomic (a temporary file, then ``os.replace``)."""
    data, name = _chunk(model, index)
    path = Path(folder) / name
    if path.is_file() and path.stat().st_size == len(data):
        return path
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path
