"""Training jobs started by the app: one per models folder, guarded by a lock file.

Both long jobs start together in a module fixture so their TensorFlow start-up
overlaps; each uses its own models folder (its own lock).
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

import pytest
from unit_helpers import synthetic_arrays, write_npz

from vaeapp import jobs
from vaeapp.progress import CANCELLED, DONE, RUNNING, read_progress
from vaeapp.store import list_models, load_model

REPO_ROOT = Path(__file__).resolve().parents[2]
SMALL = ["--hidden", "16", "--train-size", "200", "--batch-size", "50", "--no-jit"]
WAIT_S = 300  # generous: the machine running the tests may be busy


def _args(npz: Path, epochs: int) -> list[str]:
    return ["--data", str(npz), "--epochs", str(epochs), *SMALL]


@pytest.fixture(scope="module")
def npz(tmp_path_factory: pytest.TempPathFactory) -> Path:
    base = tmp_path_factory.mktemp("jobs-data")
    return write_npz(base / "data.npz", synthetic_arrays(n_train=300, n_test=100))


@pytest.fixture(scope="module", autouse=True)
def environment(tmp_path_factory: pytest.TempPathFactory):
    """Quiet TensorFlow, and a private VAEAPP_HOME, for every job started here."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("TF_CPP_MIN_LOG_LEVEL", "2")
        patch.setenv("KERAS_BACKEND", "tensorflow")
        patch.setenv("VAEAPP_HOME", str(tmp_path_factory.mktemp("jobs-home")))
        patch.delenv("VAEAPP_MNIST_DATA", raising=False)
        yield


def _kill(job: jobs.Job) -> None:
    try:
        os.kill(job.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    jobs.wait_job(job, 30)


@dataclass
class Started:
    short_root: Path
    short: jobs.Job
    long_root: Path
    long: jobs.Job


@pytest.fixture(scope="module")
def started(tmp_path_factory: pytest.TempPathFactory, npz: Path):
    """A 2-epoch job and a 1000-epoch job (to cancel), in separate folders."""
    base = tmp_path_factory.mktemp("jobs")
    short_root, long_root = base / "short", base / "long"
    short = jobs.start_job(_args(npz, 2), "short", root=short_root)
    long = jobs.start_job(_args(npz, 1000), "long", root=long_root)
    yield Started(short_root, short, long_root, long)
    for job in (short, long):
        _kill(job)


def test_bad_name_is_refused_before_any_lock(tmp_path: Path, npz: Path):
    """start_job with '../evil' raises ValueError and creates no lock or folder."""
    root = tmp_path / "models"
    with pytest.raises(ValueError, match="not allowed"):
        jobs.start_job(_args(npz, 1), "../evil", root=root)
    assert not root.exists()
    assert not (tmp_path / "evil").exists()
    assert jobs.current_job(root) is None


def test_job_runs_alone_then_publishes_and_releases_lock(started: Started, npz: Path):
    """While a job runs start_job raises Busy; once done its model loads, lock gone."""
    root, job = started.short_root, started.short
    assert jobs.current_job(root) == job
    with pytest.raises(jobs.Busy):
        jobs.start_job(_args(npz, 1), "second", root=root)
    assert not (root / jobs.JOBS_DIR / "second.progress.json").exists()
    assert jobs.wait_job(job, WAIT_S), "the 2-epoch job did not end"
    assert jobs.current_job(root) is None
    assert not (root / jobs.LOCK_NAME).exists()
    state = read_progress(job.progress_path)
    assert state is not None and state.state == DONE, job.log_tail(20)
    assert state.model_path == str(root / "short")
    loaded = load_model(root / "short")
    assert loaded.record.epochs_trained == 2
    assert loaded.record.model.hidden == (16,)
    assert [item.name for item in list_models(root)] == ["short"]


def test_a_job_runs_at_lower_cpu_priority_than_the_app(started: Started):
    """The training subprocess is niced by APP_NICENESS, so the server comes first."""
    job = started.long
    deadline = time.monotonic() + WAIT_S
    while time.monotonic() < deadline:
        state = read_progress(job.progress_path)
        if state is not None and state.state == RUNNING:
            break
        time.sleep(0.05)
    else:
        pytest.fail("the job never started running")
    own = os.getpriority(os.PRIO_PROCESS, 0)
    expected = min(own + jobs.APP_NICENESS, 19)
    assert os.getpriority(os.PRIO_PROCESS, job.pid) == expected


def test_cancel_job_stops_a_running_job_without_publishing(started: Started):
    """cancel_job SIGTERMs the running job: it ends 'cancelled' and saves nothing."""
    root, job = started.long_root, started.long
    deadline = time.monotonic() + WAIT_S
    while time.monotonic() < deadline:
        state = read_progress(job.progress_path)
        if state is not None and state.state == RUNNING and state.epoch >= 1:
            break
        assert jobs.current_job(root) == job, job.log_tail(20)
        time.sleep(0.05)
    else:
        pytest.fail("the job never reached epoch 1")
    assert jobs.cancel_job(root) is True
    assert jobs.wait_job(job, WAIT_S), "the cancelled job did not end"
    state = read_progress(job.progress_path)
    assert state is not None and state.state == CANCELLED, job.log_tail(20)
    assert state.epoch < 1000
    assert list_models(root) == []
    assert not (root / "long").exists()
    assert jobs.current_job(root) is None
    assert not (root / jobs.LOCK_NAME).exists()
    assert jobs.cancel_job(root) is False


def test_stale_lock_of_a_dead_process_is_cleared(tmp_path: Path, npz: Path):
    """A lock naming an exited process is cleared by current_job; start_job works."""
    root = tmp_path / "models"
    root.mkdir()
    finished = subprocess.Popen(["true"])
    assert finished.wait() == 0  # reaped: its pid now names no process
    lock = root / jobs.LOCK_NAME
    lock.write_text(
        json.dumps(
            {
                "pid": finished.pid,
                "name": "old",
                "progress": str(root / jobs.JOBS_DIR / "old.progress.json"),
                "log": str(root / jobs.JOBS_DIR / "old.log"),
                "started": time.time() - 60,
            }
        )
    )
    assert jobs.current_job(root) is None
    assert not lock.exists()
    job = jobs.start_job(_args(npz, 1), "fresh", root=root)
    try:
        assert job.pid != finished.pid
        assert jobs.current_job(root) == job
        assert json.loads(lock.read_text())["pid"] == job.pid
    finally:
        _kill(job)
    assert jobs.current_job(root) is None
    assert not lock.exists()
