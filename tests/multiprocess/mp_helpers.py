"""Helpers for the data-parallel tests: the real training command run as one
or several processes on this machine, and the weights of a model folder."""

from __future__ import annotations

import os
import subprocess
import sys
from importlib.util import find_spec
from pathlib import Path

import h5py
import numpy as np
import pytest
from support import write_small_mnist

from vaeapp.train.distributed import free_local_port, process_options

REPO_ROOT = Path(__file__).resolve().parents[2]
JAX_MISSING = find_spec("jax") is None
needs_jax = pytest.mark.skipif(
    JAX_MISSING,
    reason="jax is not installed (pip install -r requirements.txt pins jax[cpu])",
)
# A tiny dense model on a small synthetic set: 400 training images of which 40
# validate, so 360 train; the test set is 100.
N_TRAIN, N_TEST = 400, 100
TINY = ("--dataset", "tiny", "--hidden", "16", "--grid-size", "2", "--seed", "3")


def small_data(folder: Path) -> Path:
    """The synthetic MNIST-layout .npz the runs train on."""
    return write_small_mnist(folder / "tiny.npz", n_train=N_TRAIN, n_test=N_TEST)


def environment(**extra: str) -> dict[str, str]:
    """The command's environment: no backend or data chosen from outside."""
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2", **extra}
    for name in ("KERAS_BACKEND", "VAEAPP_HOME", "VAEAPP_MNIST_DATA", "XLA_FLAGS"):
        if name not in extra:
            env.pop(name, None)
    return env


def command(*args: str) -> list[str]:
    return [sys.executable, "-m", "vaeapp.train", *args]


def start_group(
    args: tuple[str, ...], processes: int = 2, port: int | None = None
) -> list[subprocess.Popen]:
    """``processes`` copies of the command on localhost, one per process id,
    each with its output in pipes."""
    coordinator = f"localhost:{port or free_local_port()}"
    return [
        subprocess.Popen(
            command(*args, *process_options(coordinator, processes, rank)),
            cwd=REPO_ROOT,
            env=environment(),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for rank in range(processes)
    ]


def finish_group(
    group: list[subprocess.Popen], timeout: float = 240
) -> list[tuple[int, str, str]]:
    """``(exit status, stdout, stderr)`` of each process, in process order."""
    results = []
    for process in group:
        try:
            out, err = process.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            out, err = process.communicate()
        results.append((process.returncode, out, err))
    return results


def run_one(*args: str, **env: str) -> subprocess.CompletedProcess:
    """The command as one process."""
    return subprocess.run(
        command(*args),
        cwd=REPO_ROOT,
        env=environment(**env),
        capture_output=True,
        text=True,
        timeout=240,
    )


def weights(folder: Path) -> dict[str, np.ndarray]:
    """Every array of a model folder's weights file, by its HDF5 path."""
    arrays: dict[str, np.ndarray] = {}

    def keep(name: str, item: object) -> None:
        if isinstance(item, h5py.Dataset):
            arrays[name] = np.asarray(item[()])

    with h5py.File(folder / "model.weights.h5", "r") as handle:
        handle.visititems(keep)
    return arrays


def error_lines(stderr: str) -> list[str]:
    """The command's own error lines (the engine's logs are left out)."""
    return [line for line in stderr.splitlines() if line.startswith("error:")]
