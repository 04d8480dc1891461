"""Loading MNIST-style data sets from Keras's download or from local files.

A data source is either the name of a Keras data set (downloaded once, then
cached by Keras) or a local path: a Keras-layout ``.npz`` with ``x_train,
y_train, x_test, y_test`` or a folder holding the four official IDX files
(``.gz`` or plain). A local path is given by the ``--data`` option of the
training command or by the environment variable named by :func:`env_var`.

Nothing here imports TensorFlow unless a download is actually needed.
"""

from __future__ import annotations

import gzip
import math
import os
import socket
import struct
import zlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from vaeapp.config import DATASETS, IMAGE_SIDE, N_PIXELS

CLASS_NAMES: dict[str, tuple[str, ...]] = {
    "mnist": tuple(str(d) for d in range(10)),
    "fashion_mnist": (
        "T-shirt/top",
        "Trouser",
        "Pullover",
        "Dress",
        "Coat",
        "Sandal",
        "Shirt",
        "Sneaker",
        "Bag",
        "Ankle boot",
    ),
}

# How the page names each data set, and its official training-set size.
TITLES = {"mnist": "MNIST", "fashion_mnist": "Fashion-MNIST"}
TRAIN_IMAGES = {"mnist": 60_000, "fashion_mnist": 60_000}


def describe_training_data(dataset: str, train_size: int) -> str:
    """E.g. ``"MNIST, 60,000 training images"`` (``train_size`` 0: all)."""
    count = train_size or TRAIN_IMAGES.get(dataset, 0)
    title = TITLES.get(dataset, dataset)
    return f"{title}, {count:,} training images" if count else title


IDX_FILES = {
    "x_train": "train-images-idx3-ubyte",
    "y_train": "train-labels-idx1-ubyte",
    "x_test": "t10k-images-idx3-ubyte",
    "y_test": "t10k-labels-idx1-ubyte",
}
_IDX_IMAGES_MAGIC, _IDX_LABELS_MAGIC = 2051, 2049
_KERAS_CACHE_FILES = {"mnist": "mnist.npz", "fashion_mnist": "fashion-mnist"}
_DOWNLOAD_HOST = ("storage.googleapis.com", 443)


class DataError(ValueError):
    """Data could not be found or read; the message says how to supply it."""


@dataclass(frozen=True)
class Dataset:
    """Images flattened to ``(n, 784)`` float32 in [0, 1]; labels ``(n,)`` uint8."""

    name: str
    source: str
    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray

    @property
    def class_names(self) -> tuple[str, ...]:
        return CLASS_NAMES[self.name]


def env_var(dataset: str) -> str:
    """The environment variable that points at a local copy of ``dataset``."""
    return f"VAEAPP_{dataset.upper()}_DATA"


def how_to_supply(dataset: str) -> str:
    return (
        f"pass --data PATH or set {env_var(dataset)}=PATH, where PATH is a "
        "Keras-layout .npz (x_train, y_train, x_test, y_test) or a folder with "
        "the four IDX files"
    )


def resolve_path(dataset: str, path: str | os.PathLike | None = None) -> Path | None:
    """The local data path: ``path``, else the environment variable, else None."""
    if dataset not in DATASETS:
        raise DataError(
            f"dataset must be one of {', '.join(DATASETS)}; got {dataset!r}"
        )
    chosen = (
        path if path not in (None, "") else os.environ.get(env_var(dataset)) or None
    )
    return Path(chosen).expanduser() if chosen is not None else None


def availability(dataset: str, path: str | os.PathLike | None = None) -> str | None:
    """None when training data for ``dataset`` can be had, else why it cannot.

    A local path must exist; without one, Keras's cached download or a
    reachable download host will do. The host check takes at most 1.5 s.
    """
    local = resolve_path(dataset, path)
    if local is not None:
        return None if local.exists() else f"data path {local} does not exist"
    cache = Path(os.environ.get("KERAS_HOME", Path.home() / ".keras")) / "datasets"
    if (cache / _KERAS_CACHE_FILES[dataset]).exists():
        return None
    try:
        socket.create_connection(_DOWNLOAD_HOST, timeout=1.5).close()
    except OSError:
        return (
            f"no {dataset} data here and no network to download it: "
            + how_to_supply(dataset)
        )
    return None


def load_dataset(
    dataset: str = "mnist", path: str | os.PathLike | None = None
) -> Dataset:
    """Load ``dataset`` from ``path``, the environment variable, or Keras's download.

    Raises DataError with a one-line message when nothing can be read.
    """
    local = resolve_path(dataset, path)
    if local is None:
        arrays, source = _download(dataset), f"keras.datasets.{dataset}"
    elif local.is_dir():
        arrays, source = _read_idx_folder(local), str(local)
    elif local.is_file():
        arrays, source = _read_npz(local), str(local)
    else:
        raise DataError(f"data path {local} does not exist; " + how_to_supply(dataset))
    return _to_dataset(dataset, source, arrays)


def _download(dataset: str) -> dict[str, np.ndarray]:
    import keras  # deferred: only a download needs Keras here

    loader = getattr(keras.datasets, dataset)
    try:
        (x_train, y_train), (x_test, y_test) = loader.load_data()
    except Exception as error:  # noqa: BLE001 - any download failure gets one message
        raise DataError(
            f"could not download {dataset} ({type(error).__name__}); "
            + how_to_supply(dataset)
        ) from None
    return {"x_train": x_train, "y_train": y_train, "x_test": x_test, "y_test": y_test}


def _read_npz(path: Path) -> dict[str, np.ndarray]:
    try:
        with np.load(path, allow_pickle=False) as npz:
            missing = [k for k in IDX_FILES if k not in npz.files]
            if missing:
                raise DataError(
                    f"{path} lacks arrays {missing}; it must hold {list(IDX_FILES)}"
                )
            return {k: npz[k] for k in IDX_FILES}
    except DataError:
        raise
    except (OSError, ValueError, EOFError) as error:
        raise DataError(f"cannot read {path} as an .npz file: {error}") from None


def _read_idx_folder(folder: Path) -> dict[str, np.ndarray]:
    arrays = {}
    for key, stem in IDX_FILES.items():
        candidates = [folder / f"{stem}.gz", folder / stem]
        found = next((p for p in candidates if p.is_file()), None)
        if found is None:
            raise DataError(
                f"{folder} lacks {stem}.gz; an IDX folder needs "
                + ", ".join(f"{s}.gz" for s in IDX_FILES.values())
            )
        arrays[key] = read_idx(found)
    return arrays


def read_idx(path: Path) -> np.ndarray:
    """Read one IDX file (gzip or plain): uint8 images ``(n, 28, 28)`` or labels
    ``(n,)``."""
    opener = gzip.open if path.suffix == ".gz" else open
    try:
        with opener(path, "rb") as handle:
            raw = handle.read()
    except (OSError, EOFError, zlib.error) as error:
        raise DataError(f"cannot read {path}: {error}") from None
    if len(raw) < 8:
        raise DataError(f"{path} is too short to be an IDX file")
    magic, count = struct.unpack(">II", raw[:8])
    if magic == _IDX_IMAGES_MAGIC:
        if len(raw) < 16:
            raise DataError(f"{path} is too short to be an IDX image file")
        rows, cols = struct.unpack(">II", raw[8:16])
        shape, offset = (count, rows, cols), 16
    elif magic == _IDX_LABELS_MAGIC:
        shape, offset = (count,), 8
    else:
        raise DataError(f"{path} is not an IDX file of uint8 images or labels")
    expected = math.prod(shape)
    if len(raw) - offset != expected:
        raise DataError(
            f"{path} holds {len(raw) - offset} bytes of data, expected {expected}"
        )
    return np.frombuffer(raw, dtype=np.uint8, offset=offset).reshape(shape)


def _to_dataset(name: str, source: str, arrays: dict[str, np.ndarray]) -> Dataset:
    out = {}
    for split in ("train", "test"):
        x, y = np.asarray(arrays[f"x_{split}"]), np.asarray(arrays[f"y_{split}"])
        if x.ndim != 3 or x.shape[1:] != (IMAGE_SIDE, IMAGE_SIDE):
            raise DataError(
                f"x_{split} must have shape (n, {IMAGE_SIDE}, {IMAGE_SIDE}), "
                f"got {x.shape}"
            )
        if y.shape != (x.shape[0],):
            raise DataError(f"y_{split} must have shape ({x.shape[0]},), got {y.shape}")
        if x.shape[0] == 0:
            raise DataError(f"x_{split} is empty")
        if not np.issubdtype(y.dtype, np.integer) or y.min() < 0 or y.max() > 9:
            raise DataError(f"y_{split} must hold integer labels 0 to 9")
        out[f"x_{split}"] = _scale(x)
        out[f"y_{split}"] = y.astype(np.uint8)
    return Dataset(name=name, source=source, **out)


def _scale(x: np.ndarray) -> np.ndarray:
    """Pixels to float32 in [0, 1], flattened to ``(n, 784)``."""
    if x.dtype == np.uint8:
        return (x.reshape(-1, N_PIXELS).astype(np.float32)) / np.float32(255.0)
    x = x.astype(np.float32).reshape(-1, N_PIXELS)
    if not np.isfinite(x).all() or x.min() < 0 or x.max() > 255:
        raise DataError("images must hold pixel values 0 to 255 (or 0 to 1)")
    return x / np.float32(255.0) if x.max() > 1.0 else x
