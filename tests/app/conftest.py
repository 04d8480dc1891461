"""Fixtures for AppTest tests: an isolated models folder and small local data."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from support import write_small_mnist

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
    path = write_small_mnist(tmp_path / "small.npz")
    monkeypatch.setenv("VAEAPP_MNIST_DATA", str(path))
    os.environ.pop("VAEAPP_FASHION_MNIST_DATA", None)
    return path
