"""Fixtures for AppTest tests: an isolated models folder and small local data."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from support import run_train, write_small_mnist

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


@pytest.fixture(scope="session")
def five_d_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A tiny 5-D model trained for one epoch on synthetic digits, once for
    every test that only reads it (training one takes half a minute)."""
    root = tmp_path_factory.mktemp("five")
    data = write_small_mnist(root / "small.npz", n_train=200)
    proc = run_train(
        *("--latent-dim", "5", "--hidden", "16", "--epochs", "1"),
        *("--batch-size", "50", "--data", str(data)),
        *("--out", str(root), "--name", "five", "--quiet"),
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    return root / "five"
