"""Publishing a finished run as a model folder (its files:
:mod:`vaeapp.store.format`; written by :mod:`vaeapp.store.writing`)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import h5py
import numpy as np

from vaeapp.core.config import RefineConfig
from vaeapp.data.testsets import is_shipped
from vaeapp.explore.planes import map_data
from vaeapp.store.format import (
    CONFIG_FILE,
    FACTORS_KEY,
    IMAGES_KEY,
    LATENTS_FILE,
    METRICS_FILE,
    NAMES_KEY,
    SNAPSHOTS_FILE,
    WEIGHTS_FILE,
    images_as_bytes,
)
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


def save_result(
    result: TrainResult, parent: Path, name: str, refine: RefineConfig | None = None
) -> Path:
    """Publish ``result`` atomically as ``parent/name`` and return that path.
    With ``refine``, the folder's q is refined per image before it is
    published (:func:`vaeapp.store.refined.refine_folder`), on the run's validation
    split and test set. The map's per-image figures and, for more than two
    latent dimensions, its UMAP plane are computed from the final q and
    stored with it (:func:`vaeapp.explore.planes.map_data`)."""
    from vaeapp.model.vae import VAE

    shape = result.model_config.image_shape

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
        images = images_as_bytes(result.test_images)
        shipped = is_shipped(result.train_config.dataset, images, result.labels)
        extra = {} if shipped else {IMAGES_KEY: images.reshape(-1, *shape)}
        if result.factors is not None:
            extra[FACTORS_KEY] = np.asarray(result.factors, np.float32)
        if result.file_names is not None:
            extra[NAMES_KEY] = np.asarray(result.file_names, str)
        np.savez_compressed(
            folder / LATENTS_FILE,
            mean=result.latent_mean,
            log_var=result.latent_log_var,
            labels=result.labels,
            **extra,
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
