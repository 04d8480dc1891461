"""Fixtures for AppTest tests: an isolated models folder and small local data."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(autouse=True)
def isolated_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Each test writes trained models into its own folder, run from the repo root."""
    home = tmp_path / "models"
    monkeypatch.setenv("VAEAPP_HOME", str(home))
    monkeypatch.setenv("TF_CPP_MIN_LOG_LEVEL", "2")
    monkeypatch.chdir(ROOT)
    return home


@pytest.fixture
def small_mnist(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A tiny synthetic MNIST-layout .npz, pointed at by VAEAPP_MNIST_DATA."""
    rng = np.random.default_rng(0)
    path = tmp_path / "small.npz"
    np.savez(
        path,
        x_train=rng.integers(0, 256, (300, 28, 28), dtype=np.uint8),
        y_train=rng.integers(0, 10, 300).astype(np.uint8),
        x_test=rng.integers(0, 256, (100, 28, 28), dtype=np.uint8),
        y_test=rng.integers(0, 10, 100).astype(np.uint8),
    )
    monkeypatch.setenv("VAEAPP_MNIST_DATA", str(path))
    os.environ.pop("VAEAPP_FASHION_MNIST_DATA", None)
    return path
