"""Helpers shared by every kind of test: synthetic data (Chromium is
:mod:`devtools.browser`, shared with the benchmarks).

``tests/`` is on ``sys.path`` (its conftest.py puts it there), so any test or
conftest imports this as ``support``.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np

REPO_ROOT = Path(__file__).resolve().parents[1]


def write_small_mnist(path: Path, n_train: int = 300, n_test: int = 100) -> Path:
    """A synthetic MNIST-layout .npz at ``path``: uint8 images (n, 28, 28) of
    noise and uint8 labels (n,), seeded."""
    rng = np.random.default_rng(0)
    np.savez(
        path,
        x_train=rng.integers(0, 256, (n_train, 28, 28), dtype=np.uint8),
        y_train=rng.integers(0, 10, n_train).astype(np.uint8),
        x_test=rng.integers(0, 256, (n_test, 28, 28), dtype=np.uint8),
        y_test=rng.integers(0, 10, n_test).astype(np.uint8),
    )
    return path


def run_train(
    *args: str, timeout: float = 600, quiet: bool = True, unset: tuple[str, ...] = ()
) -> subprocess.CompletedProcess:
    """``python -m vaeapp.train ARGS`` from the checkout on the TensorFlow
    backend, its output captured as text. ``quiet`` hides TensorFlow's C++
    log (False: the command's own default); ``unset`` names variables of the
    caller's environment the run must not see (a developer's VAEAPP_HOME)."""
    env = {**os.environ, "KERAS_BACKEND": "tensorflow", "TF_CPP_MIN_LOG_LEVEL": "2"}
    if not quiet:
        env.pop("TF_CPP_MIN_LOG_LEVEL")
    for name in unset:
        env.pop(name, None)
    return subprocess.run(
        [sys.executable, "-m", "vaeapp.train", *args],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
