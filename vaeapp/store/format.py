"""The model-folder format: its files, keys and limits, and where folders live.

A model folder holds:

- ``config.json``: format version, model config, training config, data source,
  and (``data``) the class names, factor names and training-image count;
- ``metrics.json``: final test-set figures and per-epoch history;
- ``model.weights.h5``: the weights, stored once (Keras format, read by h5py);
- ``latents.npz``: the encoded test set (``mean``, ``log_var``, ``labels``),
  the test images (``images``, uint8 ``(n, height, width, channels)``; older
  folders ``(n, 784)``) unless they are the official test set shipped in
  :mod:`vaeapp.data.testsets`, and the test images' true factors (``factors``,
  float32 ``(n, k)``) where the data has them (the shapes set);
- ``snapshots.npz``: a small manifold grid after chosen epochs (optional);
- ``figures.npz``: per held-out image figures in nats (optional), float32
  ``(n,)`` each: ``elbo`` (the negative ELBO), ``recon`` (its reconstruction
  term) and ``kl`` (its KL term), summed over pixels, channels and latent
  dimensions as the training loss is (:mod:`vaeapp.inference.figures`);
- ``planes.npz``: stored 2-D planes of the encoded test set (optional),
  float32 ``(n, 2)`` each, named by method (``umap``).

``latents.npz`` may also hold ``names``: the test images' file names (own
image folders), a unicode array ``(n,)``. Latents may be stored as float16
(a map of a million points); readers make them float32.

A folder maps every held-out image (up to MAX_MAP_POINTS) but ``images``
may hold only the first of them (at most ``MAX_TEST_IMAGES`` and
``MAX_TEST_BYTES`` of :mod:`vaeapp.data.sources`). A folder trained on an
image folder records that folder's cache in config.json (``data`` ->
``image_cache``: its name) and each held-out image's row in it
(``cache_rows``, integers ``(n,)``, in ``latents.npz``), so that a server
with that cache shows every held-out image (:mod:`vaeapp.store.held_out`).

Shipped folders live in ``vaeapp/pretrained/`` (:data:`PRETRAINED_DIR`), those
trained or uploaded on a server in :func:`trained_dir`. Reading and checking a
folder is :mod:`vaeapp.store.reading`, writing one :mod:`vaeapp.store.writing`,
finding one :mod:`vaeapp.store.listing`.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

import numpy as np

from vaeapp.core import safe_json
from vaeapp.core.config import TrainConfig
from vaeapp.core.settings import settings
from vaeapp.data.image_folder import MAX_SHOWN_NAME
from vaeapp.data.sources import MAX_HELD_OUT_IMAGES

FORMAT_VERSION = 1
CONFIG_FILE = "config.json"
METRICS_FILE = "metrics.json"
WEIGHTS_FILE = "model.weights.h5"
LATENTS_FILE = "latents.npz"
SNAPSHOTS_FILE = "snapshots.npz"
FIGURES_FILE = "figures.npz"
PLANES_FILE = "planes.npz"
# figures.npz's keys: -ELBO, its reconstruction term and its KL term per image.
FIGURE_KEYS = ("elbo", "recon", "kl")
UMAP_KEY = "umap"
PLANE_KEYS = (UMAP_KEY,)  # planes.npz's keys: the methods a plane may come from
# What a stored figure or plane coordinate may be, in absolute value: far
# beyond any real one (a pixel's loss is finite), so that a crafted file
# cannot make a colour scale or map extent overflow float32 arithmetic.
MAX_FIGURE = 1e9
MAX_PLANE_COORD = 1e6
NAMES_KEY = "names"  # optional file names of the test images in LATENTS_FILE
MAX_FILE_NAME_CHARS = MAX_SHOWN_NAME
# The most held-out images a folder's map shows (latents and planes of all of
# them); the images themselves need not be stored.
MAX_MAP_POINTS = MAX_HELD_OUT_IMAGES
# Latents of more test images than this are stored as float16 (8 MB a
# million points of a 2-D mean and log-variance); fewer as float32.
FLOAT16_LATENTS_ABOVE = 10_000
# What the map's files add per test image at most, uncompressed: the figures
# and the planes, float32.
MAP_BYTES_PER_IMAGE = 4 * len(FIGURE_KEYS) + 8 * len(PLANE_KEYS)
IMAGES_KEY = "images"  # optional test images inside LATENTS_FILE
FACTORS_KEY = "factors"  # optional true factors of the test images, likewise
CACHE_ROWS_KEY = "cache_rows"  # optional rows of the test images in their cache
IMAGE_CACHE_KEY = "image_cache"  # config.json data: the image folder's cache
DATA_KEY = "data"  # config.json's description of the data (optional)
REFINE_KEY = "refine"  # config.json's per-image refinement of q (optional)
# Every key config.json may hold (config_document writes them).
CONFIG_KEYS = frozenset(
    {"format_version", "model", "train", "data_source", DATA_KEY, REFINE_KEY}
)
MAX_IMAGES_COUNT = 10**9
REQUIRED_FILES = (CONFIG_FILE, METRICS_FILE, WEIGHTS_FILE, LATENTS_FILE)
MODEL_FILES = (*REQUIRED_FILES, SNAPSHOTS_FILE, FIGURES_FILE, PLANES_FILE)
TEMP_PREFIX = ".tmp-"
NAME_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")
# A metrics.json of EPOCHS_MAX epochs is about 3.6 MB (under 512 bytes a row).
MAX_JSON_BYTES = 6_000_000
MAX_SOURCE_CHARS = 500  # config.json's data_source
MAX_ROW_KEYS = 32  # figures in one history row
# A model folder may be as large as its model needs (training writes what it
# must; the facts state the size): the cap on what the page accepts is the
# upload's own (vaeapp.store.upload). What an .npz's arrays may unpack to,
# together, before np.load allocates them: a bound of memory, above the test
# set of 10,000 images of 128x128x3 with their latents (about 0.5 GB).
MAX_NPZ_BYTES = 2_000_000_000
MAX_SNAPSHOT_COUNT = 100
GRID_MAX = next(s.high for f, s in settings(TrainConfig) if f.name == "grid_size")

PACKAGE_DIR = Path(__file__).resolve().parents[1]
PRETRAINED_DIR = PACKAGE_DIR / "pretrained"
HOME_ENV = "VAEAPP_HOME"


class ModelFolderError(ValueError):
    """A model folder is missing files or holds invalid content.

    The message is kept to one line of at most 300 characters: it is shown in
    the page, and may quote a crafted file.
    """

    def __init__(self, message: Any = "") -> None:
        super().__init__(safe_json.one_line(message))


def trained_dir() -> Path:
    """Where models trained by users are written: ``$VAEAPP_HOME`` or ``./runs``."""
    return Path(os.environ.get(HOME_ENV) or Path.cwd() / "runs").expanduser().resolve()


def check_name(name: str) -> str:
    """Return ``name`` if it is a safe folder name, else raise ValueError."""
    if not isinstance(name, str) or not NAME_PATTERN.match(name) or ".." in name:
        raise ValueError(
            f"model name {name!r} is not allowed: use 1 to 64 letters, digits, "
            "'_', '-' or '.', starting with a letter or digit"
        )
    return name


def images_as_bytes(x: np.ndarray) -> np.ndarray:
    """Pixels in [0, 1] float -> uint8 0..255 of the same shape, as stored."""
    return np.rint(np.clip(np.asarray(x, np.float32), 0.0, 1.0) * 255).astype(np.uint8)


# The held-out figure of each epoch, with its label: the validation split's
# (runs since it was held out of the training images), else the test set's
# (model folders written before).
HELD_OUT_CURVES = (
    ("val_neg_elbo", "validation −ELBO"),
    ("test_neg_elbo", "test −ELBO"),
)


def held_out_curve(history: list[Any]) -> tuple[str, str] | None:
    """``(key, label)`` of the held-out figure the rows of ``history`` carry,
    or None when they carry none (a run without a validation split)."""
    first = history[0] if history and isinstance(history[0], dict) else {}
    return next(((k, label) for k, label in HELD_OUT_CURVES if k in first), None)


# metrics.json keys of the figures python -m vaeapp.evaluate adds.
IWAE_KEY, IWAE_SE_KEY = "test_iwae_nll", "test_iwae_se"
IWAE_SAMPLES_KEY, IWAE_IMAGES_KEY = "iwae_samples", "iwae_images"
# metrics.json: how many test images (the first ones) the test figures were
# measured on, where fewer than the folder maps (absent: all of them).
TEST_IMAGES_KEY = "test_images"
KNN_KEY = "knn5_accuracy"
KNN_UMAP_KEY = "knn5_accuracy_umap"  # the same vote on the stored UMAP plane
UMAP_SECONDS_KEY = "umap_seconds"  # what computing that plane took
