"""Publishing a finished run as a model folder (its files:
:mod:`vaeapp.store.format`; written by :mod:`vaeapp.store.writing`)."""

from __future__ import annotations

import math
import os
from pathlib import Path
from typing import Any

import h5py
import numpy as np

from vaeapp.core.config import RefineConfig
from vaeapp.data.folder_cache import StreamedImages
from vaeapp.data.sources import MAX_TEST_BYTES, MAX_TEST_IMAGES
from vaeapp.data.testsets import is_shipped
from vaeapp.explore.planes import map_data
from vaeapp.store.format import (
    CACHE_ROWS_KEY,
    CONFIG_FILE,
    FACTORS_KEY,
    FLOAT16_LATENTS_ABOVE,
    IMAGE_CACHE_KEY,
    IMAGES_KEY,
    LATENTS_FILE,
    METRICS_FILE,
    NAMES_KEY,
    SNAPSHOTS_FILE,
    WEIGHTS_FILE,
    images_as_bytes,
)
from vaeapp.store.held_out import write_cache
from vaeapp.store.reading import load_model
from vaeapp.store.refined import refine_folder
from vaeapp.store.writing import (
    config_document,
    publish,
    write_json,
    write_map_files,
)
from vaeapp.train.loop import TrainResult


def convert_weights_file(path: Path, dtype: str) -> None:
    """Rewrite the Keras weights file at ``path`` with its float32 arrays stored
    as ``dtype``, same layout and attributes, through a temporary file in the
    same folder (HDF5 does not give back the space of replaced arrays)."""
    temporary = path.with_name(f".{path.name}.{dtype}")
    with h5py.File(path, "r") as source, h5py.File(temporary, "w") as target:
        target.attrs.update(source.attrs)

        def copy(name: str, item: Any) -> None:
            if isinstance(item, h5py.Group):
                target.require_group(name).attrs.update(item.attrs)
                return
            data = item[()]
            if isinstance(data, np.ndarray) and data.dtype == np.float32:
                data = data.astype(dtype)
            target.create_dataset(name, data=data).attrs.update(item.attrs)

        source.visititems(copy)
    os.replace(temporary, path)


def stored_count(count: int, image_shape: tuple[int, int, int], cap: int) -> int:
    """How many of ``count`` held-out images of ``image_shape`` a folder stores
    the pixels of: the first ``cap``, at most MAX_TEST_BYTES of them."""
    return min(count, cap, MAX_TEST_BYTES // math.prod(image_shape))


def check_refinable(held_out: int, image_shape: tuple[int, int, int]) -> None:
    """Raise ValueError when a run that refines q per image would hold out
    more images than its folder stores the pixels of (refinement, at
    publish, reads them all from the folder)."""
    stored = stored_count(held_out, image_shape, MAX_TEST_IMAGES)
    if stored < held_out:
        raise ValueError(
            f"refining q per image needs every test image in the model folder, "
            f"which stores {stored:,}; this data holds out {held_out:,}: leave "
            "out the --refine options, or hold out fewer (--test-share)"
        )


def held_out_cache(
    result: TrainResult, stored_images: int = MAX_TEST_IMAGES
) -> tuple[str, np.ndarray] | None:
    """``(cache name, rows)`` of the cache that holds every held-out image of
    ``result`` on this server: its image folder's cache, or, when the folder
    stores fewer than all and they come from no image folder, a cache
    written now and named by their content (:func:`vaeapp.store.held_out.write_cache`);
    None when the folder stores them all."""
    images = result.test_images
    if isinstance(images, StreamedImages):
        return images.images.parent.name, images.rows
    n, shape = result.labels.shape[0], result.model_config.image_shape
    if stored_count(n, shape, stored_images) >= n:
        return None
    return write_cache(images, shape), np.arange(n)


def latents_arrays(
    result: TrainResult,
    stored_images: int = MAX_TEST_IMAGES,
    cache: tuple[str, np.ndarray] | None = None,
) -> dict[str, np.ndarray]:
    """``latents.npz``'s arrays for ``result``: q of every held-out image
    (float16 beyond FLOAT16_LATENTS_ABOVE of them), their labels, factors,
    file names and rows (uint32: a folder has at most 10 M files) in the
    ``cache`` (:func:`held_out_cache`), and the pixels of the first
    :func:`stored_count` (none for an official test set that ships with the
    package)."""
    shape = result.model_config.image_shape
    n = result.labels.shape[0]
    dtype = np.float16 if n > FLOAT16_LATENTS_ABOVE else np.float32
    arrays = {
        "mean": np.asarray(result.latent_mean).astype(dtype),
        "log_var": np.asarray(result.latent_log_var).astype(dtype),
        "labels": result.labels,
    }
    images = images_as_bytes(
        np.asarray(result.test_images[: stored_count(n, shape, stored_images)])
    )
    if not is_shipped(result.train_config.dataset, images, result.labels):
        arrays[IMAGES_KEY] = images.reshape(-1, *shape)
    if result.factors is not None:
        arrays[FACTORS_KEY] = np.asarray(result.factors, np.float32)
    if result.file_names is not None:
        arrays[NAMES_KEY] = np.asarray(result.file_names, str)
    if cache is not None:
        arrays[CACHE_ROWS_KEY] = np.asarray(cache[1]).astype(np.uint32)
    return arrays


def save_result(
    result: TrainResult,
    parent: Path,
    name: str,
    refine: RefineConfig | None = None,
    stored_images: int = MAX_TEST_IMAGES,
) -> Path:
    """Publish ``result`` atomically as ``parent/name`` and return that path.
    Every held-out image's q goes in, the pixels of the first
    ``stored_images`` (:func:`latents_arrays`), and the name of the cache on
    this server that holds them all (:func:`held_out_cache`).
    With ``refine``, the folder's q is refined per image before it is
    published (:func:`vaeapp.store.refined.refine_folder`), on the run's validation
    split and test set. The map's per-image figures and, for more than two
    latent dimensions, its UMAP plane are computed from the final q and
    stored with it (:func:`vaeapp.explore.planes.map_data`)."""
    from vaeapp.model.vae import VAE

    cache = held_out_cache(result, stored_images)

    def write_files(folder: Path) -> None:
        clean = VAE(result.model_config)  # no optimizer state: weights stored once
        clean.set_weights(result.model.get_weights())
        clean.save_weights(str(folder / WEIGHTS_FILE))
        dtype = result.train_config.weights_dtype
        if dtype != "float32":
            convert_weights_file(folder / WEIGHTS_FILE, dtype)
        write_json(
            folder / CONFIG_FILE,
            config_document(
                result.model_config,
                result.train_config,
                result.data_source,
                {
                    "class_names": _listed(result.class_names),
                    "factor_names": _listed(result.factor_names),
                    "train_images": result.train_images,
                    **({} if cache is None else {IMAGE_CACHE_KEY: cache[0]}),
                },
            ),
        )
        write_json(
            folder / METRICS_FILE,
            {
                **result.test_metrics,
                **(result.validation_metrics or {}),
                "best_epoch": result.best_epoch or len(result.history),
                "history": result.history,
            },
        )
        np.savez_compressed(
            folder / LATENTS_FILE, **latents_arrays(result, stored_images, cache)
        )
        if result.snapshots:
            epochs = sorted(result.snapshots)
            np.savez_compressed(
                folder / SNAPSHOTS_FILE,
                epochs=np.array(epochs, np.int32),
                grids=np.stack([result.snapshots[e] for e in epochs]),
            )
        if refine is not None:
            refine_folder(load_model(folder), refine, result.validation_images)
        # The map's figures and plane, from the folder's final q.
        data = map_data(load_model(folder))
        write_map_files(folder, data.figures, data.planes)

    return publish(parent, name, write_files)


def _listed(names: tuple[str, ...] | None) -> list[str] | None:
    return None if names is None else list(names)
