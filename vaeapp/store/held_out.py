"""Where the pictures of a model folder's held-out images come from.

A folder maps every held-out image (up to a million) but stores the pixels
of its first ones only (at most MAX_TEST_IMAGES, MAX_TEST_BYTES:
:mod:`vaeapp.data.sources`). A folder trained on an image folder also
records the name of that folder's uint8 cache (:mod:`vaeapp.data.folder_cache`:
the folder's content digest and how it was decoded) and each held-out
image's row in it (``cache_rows`` in ``latents.npz``): a server that has
that cache (under :func:`vaeapp.data.folder_index.cache_root`) shows every
held-out image; one without it shows the stored ones, and says why not the
rest.
"""

from __future__ import annotations

import hashlib
import math
import os
import re
import shutil
import tempfile
from pathlib import Path

import numpy as np

from vaeapp.data.array_files import NpyVersionError, read_npy_header
from vaeapp.data.folder_cache import IMAGES_FILE, INDEX_FILE, CacheIndex, StreamedImages
from vaeapp.data.folder_index import CACHE_ENV, MAX_FILES, cache_root

# A cache's folder name: 32 hex digits of the listing's digest, then how it
# was decoded (vaeapp.data.folder_cache.Decoding.tag): "32x32-rgb-black".
WRITE_ROWS = 20_000  # images converted and written at a time
CACHE_NAME = re.compile(r"^[0-9a-f]{32}-[0-9]{1,5}x[0-9]{1,5}-(grey|rgb)-[a-z]{1,16}$")


def check_cache_name(name: object) -> str:
    """``name`` if it names a folder cache (CACHE_NAME), else ValueError."""
    if not isinstance(name, str) or not CACHE_NAME.fullmatch(name):
        raise ValueError(
            "image_cache must be a folder cache's name: 32 hex digits, '-', "
            "then WIDTHxHEIGHT-grey|rgb-BACKGROUND"
        )
    return name


def open_cache(
    name: str,
    rows: np.ndarray,
    image_shape: tuple[int, int, int],
    root: Path | None = None,
) -> tuple[StreamedImages | None, str | None]:
    """``(images, None)``: the held-out images at cache ``rows`` ``(n,)`` of
    the cache ``name`` under ``root`` (default: this server's cache root),
    read as ``image_shape`` (h, w, c); or ``(None, why)`` when this server
    has no complete cache of that name or it does not fit."""
    folder = (root or cache_root()) / "folders" / check_cache_name(name)
    missing = (
        f"this server has no cache of the data the model was trained on "
        f"({name[:12]}…, looked for under ${CACHE_ENV} or ~/.cache/vaeapp; "
        "training on that data here makes it)"
    )
    if not (folder / INDEX_FILE).is_file() or not (folder / IMAGES_FILE).is_file():
        return None, missing
    try:
        with open(folder / IMAGES_FILE, "rb") as handle:
            shape, dtype, _ = read_npy_header(handle)
    except (OSError, ValueError, EOFError, NpyVersionError):
        return None, f"the image folder's cache {name[:12]}… is unreadable"
    height, width, channels = image_shape
    fits = (
        dtype == np.uint8
        and len(shape) == 4
        and tuple(shape[1:3]) == (height, width)
        and shape[3] in {channels, 3}
        and rows.size > 0
        and int(rows.max()) < shape[0]
        and (folder / IMAGES_FILE).stat().st_size >= math.prod(shape)
    )
    if not fits:
        return None, f"the image folder's cache {name[:12]}… does not fit this model"
    return StreamedImages(folder / IMAGES_FILE, rows, tuple(shape[1:]), channels), None


def check_cache_rows(rows: np.ndarray, n: int) -> np.ndarray:
    """``latents.npz``'s ``cache_rows``: ``(n,)`` integers 0 to MAX_FILES - 1
    (a folder's most files), as int64; ValueError otherwise."""
    if (
        rows.shape != (n,)
        or rows.dtype.kind not in "iu"
        or (n and (rows.min() < 0 or rows.max() >= MAX_FILES))
    ):
        raise ValueError(
            f"cache_rows must be one row number 0 to {MAX_FILES - 1:,} per test "
            f"image ({n:,})"
        )
    return rows.astype(np.int64)


def write_cache(
    images: np.ndarray,
    image_shape: tuple[int, int, int],
    root: Path | None = None,
    rows: int = WRITE_ROWS,
) -> str:
    """Write held-out images that come from no image folder (an ``.npz``'s
    test split, read in memory) into a cache named by their content, as an
    image folder's cache is laid out (``images.npy`` uint8 ``(n, h, w, c)``,
    ``index.json``), under ``root`` (default: this server's cache root), and
    return its name; the images' cache rows are ``0 .. n - 1``. ``images``
    ``(n, n_pixels)`` in [0, 1] are read ``rows`` at a time. A cache of that
    name already there is kept. The write is atomic (a temporary folder,
    then a rename)."""
    n = len(images)
    height, width, channels = image_shape
    digest = hashlib.sha256(f"{n}x{height}x{width}x{channels}".encode())
    for start in range(0, n, rows):
        digest.update(_as_bytes(images[start : start + rows]).tobytes())
    colour = "grey" if channels == 1 else "rgb"
    name = f"{digest.hexdigest()[:32]}-{width}x{height}-{colour}-black"
    parent = (root or cache_root()) / "folders"
    if (parent / name / INDEX_FILE).is_file():
        return name
    parent.mkdir(parents=True, exist_ok=True)
    temporary = Path(tempfile.mkdtemp(prefix=f".{name}.", dir=parent))
    try:
        pixels = np.lib.format.open_memmap(
            temporary / IMAGES_FILE, "w+", np.uint8, (n, *image_shape)
        )
        for start in range(0, n, rows):
            block = _as_bytes(images[start : start + rows])
            pixels[start : start + len(block)] = block.reshape(-1, *image_shape)
        pixels.flush()
        del pixels
        index = CacheIndex(n, n, 0, None, 0, channels == 1, ((width, height),))
        (temporary / INDEX_FILE).write_text(index.as_json())
        os.replace(temporary, parent / name)
    except OSError:
        shutil.rmtree(temporary, ignore_errors=True)
        if not (parent / name / INDEX_FILE).is_file():  # not another's, at once
            raise
    return name


def _as_bytes(x: np.ndarray) -> np.ndarray:
    """Pixels in [0, 1] -> uint8, as a model folder stores them."""
    return np.rint(np.clip(np.asarray(x, np.float32), 0.0, 1.0) * 255).astype(np.uint8)
