"""Training jobs started by the app: one per models folder, guarded by an flock.

Both long jobs start together in a module fixture so their TensorFlow start-up
overlaps; each uses its own models folder (its own lock).
"""

from __future__ import annotations

import json
import os
import signal
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import pytest
from unit_helpers import synthetic_arrays, write_npz

from vaeapp.core.cluster import single_process_environment
from vaeapp.core.config import ModelConfig, TrainConfig
from vaeapp.jobs import runner as jobs
from vaeapp.jobs.progress import CANCELLED, DONE, RUNNING, read_progress
from vaeapp.store.format import FORMAT_VERSION
from vaeapp.store.listing import list_models
from vaeapp.store.reading import load_model

REPO_ROOT = Path(__file__).resolve().parents[2]
MODEL = ModelConfig(hidden=(16,))
WAIT_S = 300  # generous: the machine running the tests may be busy


def _train(epochs: int) -> TrainConfig:
    return TrainConfig(epochs=epochs, train_size=200, batch_size=50, jit_compile=False)


def _start(npz: Path, epochs: int, name: str, root: Path) -> jobs.Job:
    return jobs.start_job(MODEL, _train(epochs), name, root=root, data=npz)


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
    short = _start(npz, 2, "short", short_root)
    long = _start(npz, 1000, "long", long_root)
    yield Started(short_root, short, long_root, long)
    for job in (short, long):
        _kill(job)


def test_bad_name_is_refused_before_any_lock(tmp_path: Path, npz: Path):
    """start_job with '../evil' raises ValueError and creates no lock or folder."""
    root = tmp_path / "models"
    with pytest.raises(ValueError, match="not allowed"):
        _start(npz, 1, "../evil", root)
    assert not root.exists()
    assert not (tmp_path / "evil").exists()
    assert jobs.current_job(root) is None


def test_job_runs_alone_then_publishes_and_releases_lock(started: Started, npz: Path):
    """While a job runs start_job raises Busy; once done its model loads, lock gone."""
    root, job = started.short_root, started.short
    assert jobs.current_job(root) == job
    with pytest.raises(jobs.Busy):
        _start(npz, 1, "second", root)
    assert not (root / jobs.JOBS_DIR / "second.config.json").exists()
    assert jobs.wait_job(job, WAIT_S), "the 2-epoch job did not end"
    assert jobs.current_job(root) is None
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


def test_only_the_starters_key_cancels_a_job(started: Started):
    """cancel_job with an empty or wrong key asks nothing; the job keeps running."""
    root, job = started.long_root, started.long
    assert jobs.current_job(root) == job
    assert jobs.current_job(root).key == ""
    assert jobs.cancel_job("", root) is False
    assert jobs.cancel_job("not-the-key", root) is False
    assert jobs.current_job(root) == job


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
    assert jobs.cancel_job(job.key, root) is True
    assert jobs.wait_job(job, WAIT_S), "the cancelled job did not end"
    state = read_progress(job.progress_path)
    assert state is not None and state.state == CANCELLED, job.log_tail(20)
    assert state.epoch < 1000
    assert list_models(root) == []
    assert not (root / "long").exists()
    assert jobs.current_job(root) is None
    assert jobs.cancel_job(job.key, root) is False


def test_the_job_reads_the_config_document_written_for_it(started: Started):
    """start_job writes the configs as a config.json document and passes --config."""
    job = started.short
    document = json.loads(
        (started.short_root / jobs.JOBS_DIR / "short.config.json").read_text()
    )
    assert document["format_version"] == FORMAT_VERSION
    assert ModelConfig.from_dict(document["model"]) == MODEL
    assert TrainConfig.from_dict(document["train"]) == _train(2)
    command = Path(f"/proc/{job.pid}/cmdline")
    if command.exists() and jobs.current_job(started.short_root) is not None:
        argv = command.read_bytes().split(b"\0")
        assert b"--config" in argv and b"--epochs" not in argv


def test_a_lock_file_no_process_holds_is_no_job(tmp_path: Path, npz: Path):
    """A lock file left with a description but held by no process means no run."""
    root = tmp_path / "models"
    root.mkdir()
    lock = root / jobs.LOCK_NAME
    lock.write_text(
        json.dumps(
            {
                "pid": os.getpid(),
                "name": "old",
                "progress": str(root / jobs.JOBS_DIR / "old.progress.json"),
                "log": str(root / jobs.JOBS_DIR / "old.log"),
                "started": time.time() - 60,
                "key_sha256": "0" * 64,
            }
        )
    )
    assert jobs.current_job(root) is None
    job = _start(npz, 1, "fresh", root)
    try:
        assert jobs.current_job(root) == job
        assert json.loads(lock.read_text())["pid"] == job.pid
    finally:
        _kill(job)
    assert jobs.current_job(root) is None


def test_a_killed_run_frees_the_lock_at_once(tmp_path: Path, npz: Path):
    """SIGKILL of the training process frees the lock: no wait, no clean-up."""
    root = tmp_path / "models"
    job = _start(npz, 1000, "killed", root)
    assert jobs.current_job(root) == job
    os.kill(job.pid, signal.SIGKILL)
    assert jobs.wait_job(job, 30)
    assert jobs.current_job(root) is None
    again = _start(npz, 1000, "again", root)
    try:
        assert jobs.current_job(root) == again
    finally:
        _kill(again)


def test_two_concurrent_starts_give_one_job_and_one_busy(tmp_path: Path, npz: Path):
    """Two start_job calls at the same moment: one starts a run, the other is Busy."""
    root = tmp_path / "models"
    barrier = threading.Barrier(2)
    outcomes: dict[str, object] = {}

    def start(name: str) -> None:
        barrier.wait()
        try:
            outcomes[name] = _start(npz, 1000, name, root)
        except jobs.Busy as busy:
            outcomes[name] = busy

    threads = [threading.Thread(target=start, args=(n,)) for n in ("one", "two")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    started = [o for o in outcomes.values() if isinstance(o, jobs.Job)]
    try:
        assert len(started) == 1
        assert sum(isinstance(o, jobs.Busy) for o in outcomes.values()) == 1
        assert jobs.current_job(root) == started[0]
    finally:
        for job in started:
            _kill(job)


def test_a_run_the_app_starts_never_sees_a_cluster_of_several_tasks():
    """The app inside a SLURM or Open MPI job starts a one-process run: the
    variables by which training would detect a cluster are left out."""
    from vaeapp.train.distributed import detect_cluster

    environ = {"SLURM_NTASKS": "4", "OMPI_COMM_WORLD_SIZE": "2", "HOME": "/h"}
    assert detect_cluster(environ) is not None
    cleaned = single_process_environment(environ)
    assert cleaned == {"HOME": "/h"} and detect_cluster(cleaned) is None
