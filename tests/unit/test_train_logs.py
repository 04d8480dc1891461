"""What a training run logs besides its model folder: Keras's progress bar on a
terminal, a CSV file (``--csv``) and TensorBoard logs (``--tensorboard``), read
back from one small run of the command under a pseudo-terminal."""

from __future__ import annotations

import csv
import io
import json
import os
import pty
import re
import select
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from support import REPO_ROOT, run_train
from unit_helpers import synthetic_arrays, write_npz

from vaeapp.store.format import METRICS_FILE
from vaeapp.store.size import snapshot_epochs

EPOCHS = 3
STEPS = 4  # 200 training images in batches of 50, one batch per step
GRID = 4
RUN_TIMEOUT_S = 300
ARGS = (
    f"--epochs {EPOCHS} --train-size 200 --batch-size 50 --steps-per-execution 1 "
    f"--hidden 16 --grid-size {GRID} --name logged"
).split()
FIGURES = ("recon", "kl", "neg_elbo", "loss")
VALIDATION = ("val_recon", "val_kl", "val_neg_elbo")


@dataclass(frozen=True)
class LoggedRun:
    """The run's terminal output, its model folder and the logs it wrote."""

    output: str
    code: int
    folder: Path
    csv: Path
    board: Path


def run_in_terminal(argv: list[str], env: dict[str, str], timeout: float) -> tuple:
    """Run ``argv`` with stdout and stderr on a pseudo-terminal (so that it
    is a tty to the command); return (exit code, everything it printed)."""
    leader, follower = pty.openpty()
    process = subprocess.Popen(
        argv, cwd=REPO_ROOT, env=env, stdout=follower, stderr=follower,
        stdin=subprocess.DEVNULL,
    )  # fmt: skip
    os.close(follower)
    chunks = []
    try:
        while True:
            ready, _, _ = select.select([leader], [], [], timeout)
            if not ready:
                process.kill()
                pytest.fail(f"no output for {timeout} s: {b''.join(chunks)[-2000:]}")
            try:
                chunk = os.read(leader, 65536)
            except OSError:  # the command closed its end: it has exited
                break
            if not chunk:
                break
            chunks.append(chunk)
    finally:
        os.close(leader)
    code = process.wait(timeout=timeout)
    return code, b"".join(chunks).decode(errors="replace")


@pytest.fixture(scope="module")
def logged(tmp_path_factory: pytest.TempPathFactory) -> LoggedRun:
    """One 3-epoch run of a tiny dense model on a synthetic set, with a
    validation split, --csv and --tensorboard, its output on a terminal."""
    folder = tmp_path_factory.mktemp("logged")
    data = write_npz(folder / "tiny.npz", synthetic_arrays(n_train=300, n_test=100))
    table, board = folder / "epochs.csv", folder / "board"
    env = {**os.environ, "KERAS_BACKEND": "tensorflow", "TF_CPP_MIN_LOG_LEVEL": "2"}
    for name in ("VAEAPP_MNIST_DATA", "VAEAPP_HOME"):
        env.pop(name, None)
    argv = [
        sys.executable, "-m", "vaeapp.train", "--data", str(data),
        "--out", str(folder / "out"), "--csv", str(table),
        "--tensorboard", str(board), *ARGS,
    ]  # fmt: skip
    code, output = run_in_terminal(argv, env, RUN_TIMEOUT_S)
    return LoggedRun(output, code, folder / "out" / "logged", table, board)


def history(run: LoggedRun) -> list[dict[str, float]]:
    """The run's per-epoch figures as its model folder keeps them."""
    assert run.code == 0, run.output[-3000:]
    return json.loads((run.folder / METRICS_FILE).read_text())["history"]


def test_a_terminal_shows_keras_progress_bar_with_the_time_left(
    logged: LoggedRun,
) -> None:
    """On a terminal the run draws Keras's Progbar over all its steps (n/12)
    with the time left before each epoch's line, and prints a line per epoch."""
    assert logged.code == 0, logged.output[-3000:]
    plain = re.sub(r"\x1b\[[0-9;]*[A-Za-z]", "", logged.output)
    total = EPOCHS * STEPS
    # Progbar's line while it runs: "k/12 ━━━ 3s 40ms/step - recon: ...",
    # its time left (s, m:ss or h:mm:ss) after the bar.
    bars = re.findall(
        rf"(\d+)/{total} ━+ (\d+s|\d+:\d\d(?::\d\d)?) \d+[mu]?s/step - recon: ",
        plain,
    )
    assert bars, plain[-3000:]
    assert {int(step) for step, _ in bars} <= set(range(1, total + 1))
    for epoch in range(1, EPOCHS + 1):
        assert f"epoch {epoch}/{EPOCHS}  recon " in plain
    assert plain.strip().splitlines()[-1].startswith("saved ")


def test_the_csv_log_has_one_row_per_epoch_with_the_folders_figures(
    logged: LoggedRun,
) -> None:
    """--csv FILE holds one row per epoch (Keras counts from 0) whose training
    and validation figures are those the model folder records."""
    rows = list(csv.DictReader(io.StringIO(logged.csv.read_text())))
    kept = history(logged)
    assert [int(row["epoch"]) for row in rows] == list(range(EPOCHS))
    assert len(kept) == EPOCHS
    for row, record in zip(rows, kept, strict=True):
        for key in FIGURES + VALIDATION:
            assert float(row[key]) == pytest.approx(record[key], rel=1e-5), key


def events(folder: Path) -> list:
    """Every summary value in a TensorBoard run folder, as (tag, step, value)
    with the tensor read back as a NumPy array."""
    import tensorflow as tf

    found = []
    for path in sorted(folder.glob("events.out.tfevents.*")):
        for event in tf.compat.v1.train.summary_iterator(str(path)):
            for value in event.summary.value:
                found.append((value.tag, event.step, tf.make_ndarray(value.tensor)))
    return found


def test_tensorboard_logs_hold_the_losses_validation_and_snapshots(
    logged: LoggedRun,
) -> None:
    """--tensorboard DIR holds Keras's scalars per epoch (training in run
    train, validation in run validation, equal to the folder's figures) and
    the grid snapshots as PNG images of the grid's size in run snapshots."""
    kept = history(logged)
    train = events(logged.board / "train")
    for key in FIGURES:
        got = {step: float(v) for tag, step, v in train if tag == f"epoch_{key}"}
        assert list(got) == list(range(EPOCHS)), key
        expected = [row[key] for row in kept]
        assert list(got.values()) == pytest.approx(expected, rel=1e-5), key
    assert {tag for tag, _, _ in train} >= {"epoch_learning_rate"}
    validation = events(logged.board / "validation")
    for key in VALIDATION:
        got = [float(v) for tag, _, v in validation if tag == f"epoch_{key[4:]}"]
        assert got == pytest.approx([row[key] for row in kept], rel=1e-5), key
    images = [(step, v) for tag, step, v in events(logged.board / "snapshots")]
    assert [step + 1 for step, _ in images] == snapshot_epochs(EPOCHS)
    for _, value in images:
        # tf.summary.image stores width, height, then the encoded pictures.
        width, height, png = value
        picture = np.asarray(Image.open(io.BytesIO(png)))
        assert picture.shape[:2] == (int(height), int(width)) == (GRID * 28,) * 2


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--csv", "{tmp}/missing/epochs.csv"], "--csv"),
        (["--csv", "{tmp}"], "--csv"),
        (["--tensorboard", "{tmp}/file"], "is not a folder"),
    ],
)
def test_a_log_path_that_cannot_be_written_fails_before_training(
    tmp_path: Path, args: list[str], message: str
) -> None:
    """A --csv file in a missing folder or that is a folder, or a
    --tensorboard path that is a file, is one error line before training."""
    (tmp_path / "file").write_text("")
    data = write_npz(tmp_path / "tiny.npz", synthetic_arrays(n_train=300, n_test=100))
    given = [a.format(tmp=tmp_path) for a in args]
    proc = run_train("--data", str(data), "--out", str(tmp_path), *given, *ARGS)
    assert proc.returncode == 1
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and message in lines[0]
    assert not (tmp_path / "logged").exists()


class Terminal(io.StringIO):
    """A captured stdout that says it is a terminal."""

    def isatty(self) -> bool:
        return True


@pytest.mark.parametrize("verbose", [True, False])
def test_quiet_draws_no_bar_even_on_a_terminal(
    monkeypatch: pytest.MonkeyPatch, verbose: bool
) -> None:
    """With a terminal as stdout the report draws Keras's bar after each step;
    quiet (the page's subprocess runs --quiet) it prints nothing at all."""
    from vaeapp.jobs.progress import Progress
    from vaeapp.train.callbacks import ProgressReport, RunLog

    terminal = Terminal()
    monkeypatch.setattr(sys, "stdout", terminal)
    report = ProgressReport(Progress(epochs=2), None, RunLog(), verbose, False)
    report.set_params({"steps": 5, "epochs": 2})
    report.on_train_begin()
    report.on_epoch_begin(0)
    report.on_train_batch_end(0, {"recon": 500.0, "kl": 1.0, "neg_elbo": 501.0})
    drawn = terminal.getvalue()
    if verbose:
        assert "1/10" in drawn and "recon: 500.0000" in drawn
    else:
        assert report.bar is None and drawn == ""
