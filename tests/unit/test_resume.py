"""Resumable runs: a run SIGKILL-ed mid-epoch and run again ends where an
uninterrupted run ends, publishes one folder and leaves no checkpoint."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import h5py
import numpy as np
import pytest
from support import REPO_ROOT, run_train, write_small_mnist

from vaeapp.store.unfinished import UNFINISHED_DIR, interrupted_runs

# Batch 8 of 360 training images: 45 steps an epoch, a few seconds a run.
TINY = (
    "--dataset", "tiny", "--hidden", "16", "--grid-size", "2", "--seed", "3",
    "--epochs", "5", "--batch-size", "8", "--steps-per-execution", "2",
)  # fmt: skip
RESUMED = "continuing from epoch 2 of 5"


def weights(folder: Path) -> dict[str, np.ndarray]:
    """Every array of a model folder's weights file, by its HDF5 path."""
    arrays: dict[str, np.ndarray] = {}

    def keep(name: str, item: object) -> None:
        if isinstance(item, h5py.Dataset):
            arrays[name] = np.asarray(item[()])

    with h5py.File(folder / "model.weights.h5", "r") as handle:
        handle.visititems(keep)
    return arrays


def killed_in_epoch(epoch: int, *args: str) -> subprocess.CompletedProcess:
    """The command, killed by SIGKILL after two batches of ``epoch``."""
    return subprocess.run(
        [sys.executable, str(REPO_ROOT / "tests" / "kill_in_epoch.py"), str(epoch)]
        + list(args),
        cwd=REPO_ROOT,
        env={**os.environ, "KERAS_BACKEND": "tensorflow", "TF_CPP_MIN_LOG_LEVEL": "2"},
        capture_output=True,
        text=True,
        timeout=300,
    )


@pytest.fixture(scope="module")
def tiny(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("data")
    return write_small_mnist(folder / "tiny.npz", n_train=400, n_test=100)


# The options whose state a checkpoint must carry besides the weights, the
# optimizer and the shuffle order (a run without them restores a subset).
EXTRA_STATE = ("--keep-best", "--ema", "0.9", "--kl-warmup", "3")


def test_a_run_killed_in_epoch_3_and_run_again_ends_as_an_uninterrupted_one(
    tmp_path: Path, tiny: Path
):
    """SIGKILL in epoch 3 of 5, then the same command: it says it continues
    from epoch 2, publishes exactly one folder whose weights and history
    equal an uninterrupted run's (same seed), and leaves no checkpoint."""
    args = ("--data", str(tiny), *TINY, *EXTRA_STATE)
    out, reference = tmp_path / "out", tmp_path / "reference"
    killed = killed_in_epoch(3, *args, "--out", str(out))
    assert killed.returncode == -9, killed.stderr[-2000:]
    (interrupted,) = interrupted_runs(out)
    assert interrupted.epochs_done == 2 and interrupted.epochs == 5
    again = run_train(*args, "--out", str(out))
    assert again.returncode == 0, again.stderr[-2000:]
    said = [line for line in again.stdout.splitlines() if "continuing" in line]
    assert len(said) == 1 and said[0].startswith(RESUMED), again.stdout
    assert "epoch 1/5" not in again.stdout and "epoch 3/5" in again.stdout
    once = run_train(*args, "--out", str(reference))
    assert once.returncode == 0, once.stderr[-2000:]
    (published,) = list(out.iterdir())
    (expected,) = list(reference.iterdir())
    assert published.name.startswith("tiny-")  # the generated name, kept
    assert not (out / UNFINISHED_DIR).exists()
    got, want = weights(published), weights(expected)
    assert got.keys() == want.keys()
    for key in want:
        np.testing.assert_allclose(got[key], want[key], rtol=1e-4, atol=1e-5)
    history = json.loads((published / "metrics.json").read_text())["history"]
    reference_history = json.loads((expected / "metrics.json").read_text())["history"]
    assert [row["epoch"] for row in history] == [1, 2, 3, 4, 5]
    for row, other in zip(history, reference_history, strict=True):
        assert row["neg_elbo"] == pytest.approx(other["neg_elbo"], rel=1e-5)


def test_restart_starts_afresh_and_replaces_the_checkpoint(tmp_path: Path, tiny):
    """--restart trains from epoch 1 although a checkpoint is there, and
    leaves none behind once published."""
    args = ("--data", str(tiny), *TINY, "--out", str(tmp_path), "--name", "m")
    assert killed_in_epoch(2, *args).returncode == -9
    fresh = run_train(*args, "--restart")
    assert fresh.returncode == 0, fresh.stderr[-2000:]
    assert "continuing" not in fresh.stdout and "epoch 1/5" in fresh.stdout
    assert (tmp_path / "m").is_dir() and not interrupted_runs(tmp_path)
    assert not (tmp_path / UNFINISHED_DIR).exists()
