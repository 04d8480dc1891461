"""Faults while training and saving: SIGKILL mid-epoch and mid-save, SIGTERM,
a full disk or a read-only / unusable models folder.

Whatever happens, no half-written model is ever listed or loaded, an existing
model's files stay byte-identical, and remove_stale_temps (run when the app
starts) leaves no ``.tmp-*`` entry behind.

The training subprocesses are slow to start (TensorFlow import), so the
independent ones are started together by module fixtures and overlap.
"""

from __future__ import annotations

import errno
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
from unit_helpers import synthetic_arrays, tree_hashes, write_npz

from vaeapp.jobs.progress import CANCELLED, RUNNING, read_progress
from vaeapp.store.format import CONFIG_FILE, MODEL_FILES, REQUIRED_FILES, WEIGHTS_FILE
from vaeapp.store.listing import list_models
from vaeapp.store.reading import load_model
from vaeapp.store.unfinished import UNFINISHED_DIR
from vaeapp.store.writing import publish, remove_stale_temps

REPO_ROOT = Path(__file__).resolve().parents[2]
SMALL = ("--hidden", "16", "--train-size", "200", "--batch-size", "50", "--no-jit")
LONG_EPOCHS = "1000"  # long enough never to finish before the test stops it
WAIT_S = 300  # generous: the machine running the tests may be busy

# Run in a subprocess: publish() checks the temporary folder with load_model (the
# name vaeapp.store.writing imports) just before renaming it into place, so a
# SIGKILL there lands after every file is written and before the rename.
KILL_DURING_SAVE = """\
import os
import signal
import sys

import vaeapp.store.writing
import vaeapp.train.command


def die(folder):
    os.kill(os.getpid(), signal.SIGKILL)


vaeapp.store.writing.load_model = die
sys.exit(vaeapp.train.command.main(sys.argv[1:]))
"""


@dataclass
class Run:
    """A training subprocess with its output files."""

    proc: subprocess.Popen
    stdout: Path
    stderr: Path

    def finish(self, timeout: float = WAIT_S) -> int:
        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            pytest.fail(f"training did not finish in {timeout} s: {self.err()}")

    def err(self) -> str:
        return self.stderr.read_text(errors="replace")

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait()


def _env(home: Path) -> dict[str, str]:
    env = {
        **os.environ,
        "TF_CPP_MIN_LOG_LEVEL": "2",
        "KERAS_BACKEND": "tensorflow",
        "VAEAPP_HOME": str(home),
        "PYTHONPATH": os.pathsep.join(
            p for p in (str(REPO_ROOT), os.environ.get("PYTHONPATH")) if p
        ),
    }
    env.pop("VAEAPP_MNIST_DATA", None)
    return env


def _start(command: list[str], logs: Path, label: str, home: Path) -> Run:
    logs.mkdir(parents=True, exist_ok=True)
    out, err = logs / f"{label}.out", logs / f"{label}.err"
    with open(out, "wb") as stdout, open(err, "wb") as stderr:
        proc = subprocess.Popen(
            command,
            cwd=REPO_ROOT,
            env=_env(home),
            stdin=subprocess.DEVNULL,
            stdout=stdout,
            stderr=stderr,
        )
    return Run(proc, out, err)


def _cli(npz: Path, out: Path, name: str, epochs: str, *extra: str) -> list[str]:
    return [
        sys.executable,
        "-m",
        "vaeapp.train",
        "--data",
        str(npz),
        "--epochs",
        epochs,
        *SMALL,
        "--out",
        str(out),
        "--name",
        name,
        "--quiet",
        *extra,
    ]


def _wait_until(check: Callable[[], bool], run: Run, what: str) -> None:
    deadline = time.monotonic() + WAIT_S
    while time.monotonic() < deadline:
        if check():
            return
        if run.proc.poll() is not None:
            pytest.fail(
                f"training ended (rc {run.proc.returncode}) before {what}: "
                f"{run.err()[-2000:]}"
            )
        time.sleep(0.05)
    pytest.fail(f"timed out waiting for {what}")


def _past_first_epoch(progress_file: Path) -> Callable[[], bool]:
    def check() -> bool:
        state = read_progress(progress_file)
        return state is not None and state.state == RUNNING and state.epoch >= 1

    return check


def _usable_names(folder: Path) -> list[str]:
    listed = list_models(folder)
    assert all(item.record is not None for item in listed), listed
    return [item.name for item in listed]


def _temps(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.startswith(".tmp-"))


@dataclass
class Wave1:
    base: Path
    npz: Path
    home: Path
    first: Run
    first_parent: Path
    sigterm: Run
    sigterm_out: Path
    sigterm_progress: Path
    file_out: Run
    out_file: Path


@pytest.fixture(scope="module")
def wave1(tmp_path_factory: pytest.TempPathFactory):
    """The first good model, the SIGTERM run and the --out-is-a-file run."""
    base = tmp_path_factory.mktemp("faults")
    npz = write_npz(base / "data.npz", synthetic_arrays(n_train=300, n_test=100))
    home, logs = base / "home", base / "logs"
    first_parent = base / "first"
    sigterm_out, sigterm_progress = base / "sigterm-models", base / "sigterm.json"
    out_file = base / "file-out" / "not-a-folder"
    out_file.parent.mkdir()
    out_file.write_bytes(b"just a file\n")
    long_run = _cli(npz, sigterm_out, "never", LONG_EPOCHS)
    long_run += ["--progress-file", str(sigterm_progress)]
    runs = Wave1(
        base=base,
        npz=npz,
        home=home,
        first=_start(_cli(npz, first_parent, "good", "1"), logs, "first", home),
        first_parent=first_parent,
        sigterm=_start(long_run, logs, "sigterm", home),
        sigterm_out=sigterm_out,
        sigterm_progress=sigterm_progress,
        file_out=_start(_cli(npz, out_file, "m", "1"), logs, "file-out", home),
        out_file=out_file,
    )
    yield runs
    for run in (runs.first, runs.sigterm, runs.file_out):
        run.stop()


@dataclass
class Wave2:
    kill_models: Path
    kill_progress: Path
    kill: Run
    save_models: Path
    save: Run
    good_hashes: dict[str, str]


@pytest.fixture(scope="module")
def wave2(wave1: Wave1):
    """Two models folders each holding a copy of the good model, and a run
    into each: one to SIGKILL mid-epoch, one that SIGKILLs itself mid-save."""
    rc = wave1.first.finish()
    assert rc == 0, wave1.first.err()[-2000:]
    good = wave1.first_parent / "good"
    hashes = tree_hashes(good)
    assert set(hashes) >= set(REQUIRED_FILES)
    base, logs = wave1.base, wave1.base / "logs"
    kill_models, save_models = base / "kill-models", base / "save-models"
    for parent in (kill_models, save_models):
        shutil.copytree(good, parent / "good")
        assert tree_hashes(parent / "good") == hashes
    kill_progress = base / "kill.json"
    kill_run = _cli(wave1.npz, kill_models, "killed", LONG_EPOCHS)
    kill_run += ["--progress-file", str(kill_progress)]
    kill = _start(kill_run, logs, "kill", wave1.home)
    wrapper = base / "kill_during_save.py"
    wrapper.write_text(KILL_DURING_SAVE)
    command = _cli(wave1.npz, save_models, "half-saved", "1")
    command = [sys.executable, str(wrapper), *command[3:]]
    save = _start(command, logs, "save", wave1.home)
    runs = Wave2(kill_models, kill_progress, kill, save_models, save, hashes)
    yield runs
    for run in (kill, save):
        run.stop()


def test_sigterm_after_an_epoch_cancels_and_publishes_nothing(wave1: Wave1):
    """SIGTERM during training exits 130, reports 'cancelled' and saves no
    model; it keeps its checkpoint, to continue (a scheduler's preemption
    sends SIGTERM)."""
    run = wave1.sigterm
    _wait_until(_past_first_epoch(wave1.sigterm_progress), run, "epoch 1 ended")
    run.proc.send_signal(signal.SIGTERM)
    assert run.finish() == 130, run.err()[-2000:]
    state = read_progress(wave1.sigterm_progress)
    assert state is not None and state.state == CANCELLED
    assert "nothing was saved" in state.message
    assert "Traceback" not in run.err()
    out = wave1.sigterm_out
    assert not out.exists() or [p.name for p in out.iterdir()] in (
        [],
        [UNFINISHED_DIR],
    )


def _names(models: Path) -> list[str]:
    """What ``models`` holds besides the killed run's working folder (kept:
    the same command continues from it)."""
    return sorted(p.name for p in models.iterdir() if p.name != UNFINISHED_DIR)


def test_sigkill_mid_epoch_leaves_the_previous_model_untouched(wave2: Wave2):
    """SIGKILL mid-training: only the old model is listed, byte-identical, no temps."""
    run, models = wave2.kill, wave2.kill_models
    _wait_until(_past_first_epoch(wave2.kill_progress), run, "epoch 1 ended")
    run.proc.send_signal(signal.SIGKILL)
    assert run.finish() == -signal.SIGKILL
    assert _usable_names(models) == ["good"]
    remove_stale_temps(models)  # what the app does when it next starts
    assert _names(models) == ["good"]
    assert tree_hashes(models / "good") == wave2.good_hashes
    assert load_model(models / "good").latent_mean.shape == (100, 2)


def test_sigkill_mid_save_lists_nothing_new_and_temp_is_swept(wave2: Wave2):
    """SIGKILL between writing and renaming: no new model, the temp folder is swept."""
    run, models = wave2.save, wave2.save_models
    assert run.finish() == -signal.SIGKILL, run.err()[-2000:]
    temps = _temps(models)
    assert len(temps) == 1 and temps[0].startswith(f".tmp-{run.proc.pid}-"), temps
    # the kill landed after the files were written, before the rename
    assert (models / temps[0] / WEIGHTS_FILE).is_file()
    assert not (models / "half-saved").exists()
    assert _usable_names(models) == ["good"]
    removed = remove_stale_temps(models)
    assert [p.name for p in removed] == temps
    assert _names(models) == ["good"]
    assert tree_hashes(models / "good") == wave2.good_hashes
    assert _usable_names(models) == ["good"]
    load_model(models / "good")


def test_out_pointing_at_a_file_fails_with_one_line_error(wave1: Wave1):
    """--out naming a regular file exits 1 with one 'error:' line, no traceback."""
    # Tests run as root, so a chmod-ed read-only folder would not stop writes;
    # a regular file where the models folder should be makes saving fail instead.
    run = wave1.file_out
    assert run.finish() == 1, run.err()[-2000:]
    err = run.err()
    assert "Traceback" not in err
    errors = [line for line in err.splitlines() if line.startswith("error:")]
    assert len(errors) == 1 and str(wave1.out_file) in errors[0], err[-2000:]
    assert wave1.out_file.read_bytes() == b"just a file\n"
    assert sorted(p.name for p in wave1.out_file.parent.iterdir()) == ["not-a-folder"]


@pytest.fixture
def sibling(tmp_path: Path) -> tuple[Path, dict[str, str]]:
    """A models folder holding one existing model folder, and its file hashes."""
    parent = tmp_path / "models"
    old = parent / "old"
    old.mkdir(parents=True)
    for name in MODEL_FILES:
        (old / name).write_bytes(os.urandom(64))
    return parent, tree_hashes(old)


def _half_written(folder: Path) -> None:
    (folder / CONFIG_FILE).write_text("{")
    raise OSError(errno.ENOSPC, "No space left on device")


def test_disk_full_while_writing_propagates_and_leaves_nothing(sibling):
    """ENOSPC while writing files propagates; no new folder, no temp, old intact."""
    parent, hashes = sibling
    with pytest.raises(OSError) as raised:
        publish(parent, "new", _half_written)
    assert raised.value.errno == errno.ENOSPC
    assert sorted(p.name for p in parent.iterdir()) == ["old"]
    assert tree_hashes(parent / "old") == hashes
    assert [item.name for item in list_models(parent)] == ["old"]


def test_read_only_models_folder_propagates_and_leaves_nothing(sibling, monkeypatch):
    """A read-only models folder (EROFS on creating the temp) propagates; old intact."""
    # As root a chmod-ed folder stays writable, so the failure is simulated.
    parent, hashes = sibling

    def read_only(*args, **kwargs):
        raise OSError(errno.EROFS, "Read-only file system")

    monkeypatch.setattr(tempfile, "mkdtemp", read_only)
    written: list[Path] = []
    with pytest.raises(OSError) as raised:
        publish(parent, "new", written.append)
    assert raised.value.errno == errno.EROFS
    assert written == []
    assert sorted(p.name for p in parent.iterdir()) == ["old"]
    assert tree_hashes(parent / "old") == hashes
