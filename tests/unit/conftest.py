"""Shared fixtures for the unit tests: tiny synthetic data and tiny trained models.

Nothing here touches the network or the real MNIST copy; TensorFlow is imported
only when a fixture that trains a model is first used.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

os.environ["KERAS_BACKEND"] = "tensorflow"
os.environ["TF_CPP_MIN_LOG_LEVEL"] = "2"

_REPO_ROOT = Path(__file__).resolve().parents[2]
if str(_REPO_ROOT) not in sys.path:  # also works when run as plain `pytest`
    sys.path.insert(0, str(_REPO_ROOT))

from dataclasses import dataclass  # noqa: E402
from typing import Any  # noqa: E402

import numpy as np  # noqa: E402
import pytest  # noqa: E402
from unit_helpers import synthetic_arrays, tiny_train_config, write_npz  # noqa: E402

from vaeapp.core.config import ModelConfig  # noqa: E402
from vaeapp.data.sources import Dataset  # noqa: E402


@pytest.fixture
def arrays() -> dict[str, np.ndarray]:
    return synthetic_arrays()


@pytest.fixture
def npz_path(tmp_path: Path, arrays: dict[str, np.ndarray]) -> Path:
    return write_npz(tmp_path / "data.npz", arrays)


@pytest.fixture(scope="session")
def dataset() -> Dataset:
    """A tiny synthetic data set, scaled like load_dataset's output."""
    a = synthetic_arrays()
    return Dataset(
        name="mnist",
        source="synthetic",
        x_train=a["x_train"].reshape(-1, 784).astype(np.float32) / np.float32(255),
        y_train=a["y_train"],
        x_test=a["x_test"].reshape(-1, 784).astype(np.float32) / np.float32(255),
        y_test=a["y_test"],
    )


@dataclass(frozen=True)
class Trained:
    result: Any  # vaeapp.train.loop.TrainResult
    folder: Path  # the published model folder


@pytest.fixture(scope="session")
def trained(tmp_path_factory: pytest.TempPathFactory, dataset: Dataset):
    """``trained(hidden, latent_dim)``: a tiny model trained once per session."""
    cache: dict[tuple[tuple[int, ...], int], Trained] = {}
    parent = tmp_path_factory.mktemp("trained")

    def get(hidden: tuple[int, ...] = (16,), latent_dim: int = 2) -> Trained:
        key = (tuple(hidden), latent_dim)
        if key not in cache:
            from vaeapp.train.loop import train_model
            from vaeapp.train.publish import save_result

            result = train_model(
                ModelConfig(hidden=hidden, latent_dim=latent_dim),
                tiny_train_config(),
                dataset,
                verbose=False,
            )
            name = f"m-{'-'.join(map(str, hidden))}-z{latent_dim}"
            cache[key] = Trained(result, save_result(result, parent, name))
        return cache[key]

    return get
