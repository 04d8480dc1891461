"""Helpers for the tests of the one-file export (tests/unit/test_export.py and
tests/browser/test_export.py): a model of more than two latent dimensions,
which no shipped model has.

``tests/`` is on ``sys.path``, so the tests import this as ``export_helpers``.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np

from devtools.weights import write_random_weights
from vaeapp.core.config import ModelConfig
from vaeapp.inference.numpy_vae import load_numpy_vae
from vaeapp.store.records import LoadedModel


def wide_model(
    base: LoadedModel, folder: Path, latent_dim: int = 4, seed: int = 0
) -> LoadedModel:
    """``base`` (a 28x28 grey model) with a random dense decoder of
    ``latent_dim`` inputs and ``n_test`` random encodings ``(n_test,
    latent_dim)`` of its labels; weights go through the weights-file reader,
    as a real model's do. Kernels have variance 2 / fan-in so the decoded
    pixels spread over (0, 1)."""
    config = ModelConfig(hidden=(32,), latent_dim=latent_dim)
    rng = np.random.default_rng(seed)
    path = folder / f"wide-{latent_dim}.weights.h5"
    vae = load_numpy_vae(write_random_weights(path, config, rng), config)
    count = base.latent_mean.shape[0]
    # Unequal spreads per dimension, so that PCA has a clear first plane.
    spread = np.linspace(2.0, 0.5, latent_dim)
    mean = (rng.standard_normal((count, latent_dim)) * spread).astype(np.float32)
    record = dataclasses.replace(base.record, model=config)
    return dataclasses.replace(
        base,
        record=record,
        vae=vae,
        latent_mean=mean,
        latent_log_var=np.zeros_like(mean),
        snapshots={},
    )
