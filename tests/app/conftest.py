"""Fixtures for AppTest tests: an isolated models folder and small local data."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from streamlit.runtime.scriptrunner import script_runner
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


@pytest.fixture(autouse=True)
def _no_keras_cleanup(monkeypatch: pytest.MonkeyPatch) -> None:
    """AppTests run as the page does, without Keras. The page never imports
    Keras, but a test process that ran Keras tests before (a pytest-xdist
    worker) has it, and Streamlit then calls ``keras.backend.clear_session()``
    after every script run (``script_runner._clean_problem_modules``): a full
    garbage collection over TensorFlow's objects, ten times the run itself."""
    monkeypatch.setattr(script_runner, "_clean_problem_modules", lambda: None)


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
