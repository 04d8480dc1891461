"""Safe reading of the Keras ``.weights.h5`` file that training writes.

The file is read by h5py as plain arrays: nothing in it is ever executed, HDF5
links, outside storage and other object kinds are refused, and every array's
shape and finiteness are checked against the architecture our own config
describes (:mod:`vaeapp.model.layout`).
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path

import h5py
import numpy as np

from vaeapp.core.config import ModelConfig
from vaeapp.model.layout import decoder_layers, encoder_layers


class WeightsError(ValueError):
    """A weights file is unreadable, linked, mis-shaped or not finite."""


def read_layer_arrays(
    weights_path: str | Path, config: ModelConfig
) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Kernel and bias of every layer with weights (dense, conv or transposed
    conv), keyed by HDF5 group path, in the shapes model_layout lists.

    Raises WeightsError if the file is not HDF5, holds any link, or any array is
    missing, of the wrong shape, or not finite.
    """
    specs = encoder_layers(config) + decoder_layers(config)
    with _checked_h5(weights_path, "weights ") as handle:
        return {
            spec.path: (
                _read(handle, f"{spec.path}/vars/0", spec.kernel_shape),
                _read(handle, f"{spec.path}/vars/1", spec.bias_shape),
            )
            for spec in specs
        }


MAX_H5_OBJECTS = 10_000  # groups and datasets a weights file may hold


def check_h5_structure(path: str | Path) -> None:
    """Refuse a weights file holding anything but plain groups and datasets.

    Raises WeightsError for links, outside storage, cycles, other object kinds,
    more than MAX_H5_OBJECTS objects, or a file that is not HDF5.
    """
    with _checked_h5(path):
        pass


@contextlib.contextmanager
def _checked_h5(path: str | Path, what: str = "") -> Iterator[h5py.File]:
    """``path`` open for reading once :func:`_refuse_links` has passed it; any
    error reading it, inside the block too, becomes a WeightsError
    ``"cannot read {what}{file name}: ..."``."""
    try:
        with h5py.File(path, "r") as handle:
            _refuse_links(handle)
            yield handle
    except WeightsError:
        raise
    except (OSError, KeyError, ValueError, TypeError) as error:
        raise WeightsError(f"cannot read {what}{Path(path).name}: {error}") from None


def _refuse_links(handle: h5py.File) -> None:
    """Refuse soft and external links, external or virtual storage, and any
    object reached twice (hard-link cycles), anywhere in the file."""
    stack, seen = [handle], {handle.id}
    while stack:
        group = stack.pop()
        for key in group:
            link = group.get(key, getlink=True)
            if not isinstance(link, h5py.HardLink):
                raise WeightsError(
                    f"weights file holds a link ({type(link).__name__}) at {key}"
                )
            item = group[key]
            if item.id in seen:
                raise WeightsError(f"weights file reaches an object twice at {key}")
            seen.add(item.id)
            if len(seen) > MAX_H5_OBJECTS:
                raise WeightsError(
                    f"weights file holds more than {MAX_H5_OBJECTS} objects"
                )
            if isinstance(item, h5py.Group):
                stack.append(item)
            elif not isinstance(item, h5py.Dataset):
                raise WeightsError(
                    f"weights file holds a {type(item).__name__} at {key}"
                )
            elif item.external or item.is_virtual:
                raise WeightsError(
                    f"weights file holds data stored in other files (storage at {key})"
                )


def _read(handle: h5py.File, path: str, shape: tuple[int, ...]) -> np.ndarray:
    if path not in handle or not isinstance(handle[path], h5py.Dataset):
        raise WeightsError(f"weights file lacks {path}")
    dataset = handle[path]
    if dataset.shape != shape:
        raise WeightsError(f"{path} has shape {dataset.shape}, expected {shape}")
    if dataset.dtype.kind != "f":
        raise WeightsError(f"{path} is {dataset.dtype}, expected floats")
    array = np.asarray(dataset[()], dtype=np.float32)
    if not np.isfinite(array).all():
        raise WeightsError(f"{path} holds NaN or infinite values")
    array.flags.writeable = False  # shared across sessions: never mutated
    return array
