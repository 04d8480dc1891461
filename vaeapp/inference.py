"""The trained VAE in plain NumPy: no TensorFlow import, safe weight reading.

The weights are read from the same Keras ``.weights.h5`` file that training
writes, by h5py, as plain arrays: nothing in the file is ever executed, HDF5
links are refused, and every array's shape and finiteness are checked against
the architecture our own config describes.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import h5py
import numpy as np

from vaeapp.config import N_PIXELS, ModelConfig
from vaeapp.model_layout import decoder_layers, encoder_layers, h5_dense_paths


class WeightsError(ValueError):
    """A weights file is unreadable, linked, mis-shaped or not finite."""


@dataclass(frozen=True)
class Dense:
    """One dense layer: ``kernel (n_in, n_out)``, ``bias (n_out,)``."""

    kernel: np.ndarray
    bias: np.ndarray

    def __call__(self, x: np.ndarray) -> np.ndarray:
        return x @ self.kernel + self.bias


def _relu(x: np.ndarray) -> np.ndarray:
    return np.maximum(x, 0.0, out=x)


def sigmoid(x: np.ndarray) -> np.ndarray:
    """Logistic function, stable for large ``|x|``."""
    return 0.5 * (np.tanh(0.5 * x) + 1.0)


@dataclass(frozen=True)
class NumpyVAE:
    """Encoder and decoder of a dense VAE as NumPy arrays (float32)."""

    config: ModelConfig
    encoder_hidden: tuple[Dense, ...]
    mean_head: Dense
    log_var_head: Dense
    decoder_hidden: tuple[Dense, ...]
    logits_head: Dense

    def decode(self, z: np.ndarray) -> np.ndarray:
        """Latent points ``(n, latent_dim)`` -> pixel means ``(n, 784)`` in [0, 1]."""
        h = np.asarray(z, dtype=np.float32).reshape(-1, self.config.latent_dim)
        for layer in self.decoder_hidden:
            h = _relu(layer(h))
        return sigmoid(self.logits_head(h))

    def encode(self, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Images ``(n, 784)`` in [0, 1] -> ``(mean, log_var)``, each
        ``(n, latent_dim)``."""
        h = np.asarray(x, dtype=np.float32).reshape(-1, N_PIXELS)
        for layer in self.encoder_hidden:
            h = _relu(layer(h))
        return self.mean_head(h), self.log_var_head(h)

    def decoder_layers(self) -> list[Dense]:
        """The decoder's dense layers in order, the last giving logits."""
        return [*self.decoder_hidden, self.logits_head]


def load_numpy_vae(weights_path: str | Path, config: ModelConfig) -> NumpyVAE:
    """Read ``weights_path`` (a Keras ``.weights.h5``) into a :class:`NumpyVAE`."""
    arrays = read_dense_arrays(weights_path, config)
    enc = [Dense(*arrays[path]) for path in h5_dense_paths(config)["encoder"]]
    dec = [Dense(*arrays[path]) for path in h5_dense_paths(config)["decoder"]]
    n = len(config.hidden)
    return NumpyVAE(
        config=config,
        encoder_hidden=tuple(enc[:n]),
        mean_head=enc[n],
        log_var_head=enc[n + 1],
        decoder_hidden=tuple(dec[:n]),
        logits_head=dec[n],
    )


def read_dense_arrays(
    weights_path: str | Path, config: ModelConfig
) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Kernel and bias of every dense layer, keyed by HDF5 group path.

    Raises WeightsError if the file is not HDF5, holds any link, or any array is
    missing, of the wrong shape, or not finite.
    """
    expected = {
        spec.path: spec.kernel_shape
        for spec in encoder_layers(config) + decoder_layers(config)
    }
    try:
        with h5py.File(weights_path, "r") as handle:
            _refuse_links(handle)
            out = {}
            for path, (n_in, n_out) in expected.items():
                kernel = _read(handle, f"{path}/vars/0", (n_in, n_out))
                bias = _read(handle, f"{path}/vars/1", (n_out,))
                out[path] = (kernel, bias)
            return out
    except WeightsError:
        raise
    except (OSError, KeyError, ValueError, TypeError) as error:
        raise WeightsError(
            f"cannot read weights {Path(weights_path).name}: {error}"
        ) from None


MAX_H5_OBJECTS = 10_000  # groups and datasets a weights file may hold


def check_h5_structure(path: str | Path) -> None:
    """Refuse a weights file holding anything but plain groups and datasets.

    Raises WeightsError for links, outside storage, cycles, other object kinds,
    more than MAX_H5_OBJECTS objects, or a file that is not HDF5.
    """
    try:
        with h5py.File(path, "r") as handle:
            _refuse_links(handle)
    except WeightsError:
        raise
    except (OSError, KeyError, ValueError, TypeError) as error:
        raise WeightsError(f"cannot read {Path(path).name}: {error}") from None


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
