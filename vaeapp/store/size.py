"""How large a run's model folder can grow, known before it trains: every
folder the app writes must fit the upload limit, so that it can be downloaded
and uploaded again."""

from __future__ import annotations

import zlib

import numpy as np

from vaeapp.core.config import ModelConfig, TrainConfig
from vaeapp.model.layout import parameter_count
from vaeapp.store.format import MAP_BYTES_PER_IMAGE, MAX_FOLDER_BYTES

MAX_SNAPSHOTS = 24

# Upper bounds for folder_bytes_bound: a history row of metrics.json (measured
# at 436 bytes with 10 figures of the longest form), the weights file's HDF5
# overhead (40-60 kB for the shipped models), small files and npz headers.
ROW_BYTES = 512

H5_OVERHEAD_BYTES = 256_000

SMALL_FILES_BYTES = 64_000

DEFLATE_SLACK = 1.01  # deflate may grow incompressible data a little

DEFAULT_TEST_SIZE = 10_000  # the official MNIST and Fashion-MNIST test sets


def snapshot_epochs(epochs: int, count: int = MAX_SNAPSHOTS) -> list[int]:
    """Up to ``count`` epochs (1-based), spaced geometrically, always the last."""
    picks = np.unique(np.rint(np.geomspace(1, epochs, min(count, epochs))).astype(int))
    return [int(e) for e in picks]


def folder_bytes_bound(
    model_config: ModelConfig,
    config: TrainConfig,
    n_test: int = DEFAULT_TEST_SIZE,
    with_images: bool | int = False,
) -> int:
    """An upper bound of the bytes a run's model folder takes: the weights (4
    or 2 bytes each, ``weights_dtype``), the encoded test set and the map's
    figures and plane (with its images
    if they are not the shipped test set: ``with_images`` True counts them
    uncompressed, a number is their measured compressed size), the snapshot
    grids and one metrics row per epoch."""
    snapshots = len(snapshot_epochs(config.epochs)) if config.grid_size >= 2 else 0
    arrays = n_test * (8 * model_config.latent_dim + 8 + MAP_BYTES_PER_IMAGE)
    if with_images is True:
        arrays += n_test * model_config.n_pixels
    elif with_images:
        arrays += int(with_images)
    arrays += snapshots * (config.grid_size**2 * model_config.n_pixels + 8)
    return int(
        np.dtype(config.weights_dtype).itemsize * parameter_count(model_config)
        + H5_OVERHEAD_BYTES
        + DEFLATE_SLACK * arrays
        + config.epochs * ROW_BYTES
        + SMALL_FILES_BYTES
    )


def check_folder_fits(
    model_config: ModelConfig,
    config: TrainConfig,
    n_test: int = DEFAULT_TEST_SIZE,
    with_images: bool | int = False,
) -> None:
    """Raise ValueError if the run's folder could exceed MAX_FOLDER_BYTES, the
    size whose zip the app accepts as an upload (so every model it trains can
    be downloaded and uploaded again)."""
    size = folder_bytes_bound(model_config, config, n_test, with_images)
    if size > MAX_FOLDER_BYTES:
        raise ValueError(
            f"this model's folder could take {size / 1e6:.0f} MB "
            f"({parameter_count(model_config):,} weights); the limit is "
            f"{MAX_FOLDER_BYTES / 1e6:.0f} MB, so that it can be downloaded and "
            "uploaded again: choose narrower or fewer hidden layers, fewer "
            "filters, a smaller grid, fewer epochs or a smaller --image-size"
        )


def compressed_bytes(images: np.ndarray) -> int:
    """What uint8 ``images`` take deflated, as ``np.savez_compressed`` stores
    them (plus 1 % and a header's worth)."""
    packer = zlib.compressobj(6, zlib.DEFLATED, -15)
    raw = memoryview(np.ascontiguousarray(images)).cast("B")
    size = sum(
        len(packer.compress(raw[i : i + (1 << 24)]))
        for i in range(0, len(raw), 1 << 24)
    )
    return int(DEFLATE_SLACK * (size + len(packer.flush()))) + 4096
