"""A two-process run whose worker is SIGKILL-ed in epoch 3 of 5, run again,
ends with the weights of an uninterrupted two-process run and publishes one
folder."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
from mp_helpers import (
    REPO_ROOT,
    TINY,
    environment,
    finish_group,
    needs_jax,
    small_data,
    start_group,
    weights,
)

from vaeapp.store.unfinished import interrupted_runs
from vaeapp.train.distributed import free_local_port, process_options

pytestmark = needs_jax


def _group_with_a_killed_worker(args: tuple[str, ...]) -> list[subprocess.Popen]:
    """Process 0 as the command; process 1 killed by SIGKILL in epoch 3."""
    coordinator = f"localhost:{free_local_port()}"
    killer = [sys.executable, str(REPO_ROOT / "tests" / "kill_in_epoch.py"), "3"]
    plain = [sys.executable, "-m", "vaeapp.train"]
    return [
        subprocess.Popen(
            [
                *(killer if rank else plain),
                *args,
                *process_options(coordinator, 2, rank),
            ],
            cwd=REPO_ROOT,
            env=environment(),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for rank in range(2)
    ]


def test_killed_worker_then_the_same_commands_equal_an_uninterrupted_run(
    tmp_path: Path,
):
    """Kill process 1 in epoch 3 (process 0 then fails too), start both
    again: they continue from epoch 2, process 0 publishes exactly one
    folder, no checkpoint is left, and the weights equal those of the same
    two-process run never interrupted."""
    data = small_data(tmp_path)
    args = (
        "--data", str(data), *TINY, "--epochs", "5", "--batch-size", "8",
        "--name", "m",
    )  # fmt: skip
    out, reference = tmp_path / "out", tmp_path / "reference"
    killed = finish_group(_group_with_a_killed_worker((*args, "--out", str(out))))
    assert killed[1][0] == -9 and killed[0][0] != 0, killed[0][2][-2000:]
    (interrupted,) = interrupted_runs(out)
    assert interrupted.epochs_done == 2
    again = finish_group(start_group((*args, "--out", str(out))))
    assert [status for status, _, _ in again] == [0, 0], again[0][2][-3000:]
    assert "continuing from epoch 2 of 5" in again[0][1]
    once = finish_group(start_group((*args, "--out", str(reference))))
    assert [status for status, _, _ in once] == [0, 0], once[0][2][-3000:]
    assert [p.name for p in out.iterdir()] == ["m"]  # no checkpoint left
    got, want = weights(out / "m"), weights(reference / "m")
    assert got.keys() == want.keys()
    for key in want:
        np.testing.assert_allclose(got[key], want[key], rtol=1e-4, atol=1e-5)
