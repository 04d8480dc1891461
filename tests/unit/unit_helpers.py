"""Helpers shared by the unit tests (synthetic data in Keras and IDX layouts)."""

from __future__ import annotations

import gzip
import hashlib
import struct
from pathlib import Path
from typing import Any

import numpy as np

from vaeapp.core.config import TrainConfig
from vaeapp.data.array_files import IDX_FILES

REPO_ROOT = Path(__file__).resolve().parents[2]
N_TRAIN, N_TEST = 200, 100


def synthetic_arrays(
    n_train: int = N_TRAIN, n_test: int = N_TEST, seed: int = 0
) -> dict[str, np.ndarray]:
    """Keras-layout arrays: uint8 images (n, 28, 28) and uint8 labels (n,)."""
    rng = np.random.default_rng(seed)
    return {
        "x_train": rng.integers(0, 256, (n_train, 28, 28), dtype=np.uint8),
        "y_train": rng.integers(0, 10, n_train).astype(np.uint8),
        "x_test": rng.integers(0, 256, (n_test, 28, 28), dtype=np.uint8),
        "y_test": rng.integers(0, 10, n_test).astype(np.uint8),
    }


def write_npz(path: Path, arrays: dict[str, np.ndarray]) -> Path:
    np.savez(path, **arrays)
    return path


def idx_bytes(array: np.ndarray) -> bytes:
    """The IDX encoding of uint8 images (n, rows, cols) or labels (n,)."""
    array = np.ascontiguousarray(array, dtype=np.uint8)
    if array.ndim == 3:
        header = struct.pack(">IIII", 2051, *array.shape)
    else:
        header = struct.pack(">II", 2049, array.shape[0])
    return header + array.tobytes()


def write_idx_folder(
    folder: Path, arrays: dict[str, np.ndarray], compress: bool = True
) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for key, stem in IDX_FILES.items():
        raw = idx_bytes(arrays[key])
        if compress:
            (folder / f"{stem}.gz").write_bytes(gzip.compress(raw))
        else:
            (folder / stem).write_bytes(raw)
    return folder


def tiny_train_config(**overrides: Any) -> TrainConfig:
    """Short, uncompiled training settings for fast tests."""
    settings: dict[str, Any] = dict(
        epochs=2, batch_size=50, jit_compile=False, grid_size=2, seed=0
    )
    settings.update(overrides)
    return TrainConfig(**settings)


def tree_hashes(folder: Path) -> dict[str, str]:
    """SHA-256 of every file under ``folder``, keyed by relative path."""
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def spread_weights(vae: Any, encoder_scale: float, decoder_scale: float) -> None:
    """Scale a Keras VAE's kernels up and give its biases random values (seeded),
    so that decoded pixels span (0, 1) and encoded means reach a few units, as a
    trained model's do: a parity test within 1e-5 then means something."""
    rng = np.random.default_rng(1)
    for part, scale in ((vae.encoder, encoder_scale), (vae.decoder, decoder_scale)):
        for variable in part.trainable_variables:
            value = np.asarray(variable.numpy())
            if value.ndim == 1:
                value = rng.normal(0, 0.3, value.shape)
            else:
                value = value * scale
            variable.assign(value.astype(np.float32))
