"""Training runs started by the app: one at a time per models folder, in a subprocess.

The subprocess runs the same command as the CLI (``python -m vaeapp.train
--config FILE``) and reports through a progress file. The lock is held by the
operating system: the lock file's descriptor, ``flock``-ed by the starter, is
inherited by the training process and closed by the kernel when that process
ends, however it ends, so a killed run frees the lock at once. The lock file
also holds the run's description, which :func:`current_job` reads for other
sessions and servers sharing the folder. Only the starter gets the key that
:func:`cancel_job` asks for. Nothing here imports Streamlit or TensorFlow.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import re
import secrets
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from vaeapp.core import safe_json
from vaeapp.core.cluster import single_process_environment
from vaeapp.core.config import ModelConfig, RefineConfig, TrainConfig
from vaeapp.core.options import REFINE_PREFIX, as_arguments
from vaeapp.core.safe_json import finite_number, whole_number
from vaeapp.data.sources import resolve_path
from vaeapp.jobs.progress import MAX_PID, Progress, read_progress
from vaeapp.store import disk
from vaeapp.store.format import TEMP_PREFIX, check_name, trained_dir
from vaeapp.store.unfinished import Unfinished
from vaeapp.store.writing import config_document, pid_alive, write_json

LOCK_NAME = ".training.lock"
# Held for a moment by a starter, so two starters cannot both find the lock
# free and both install their own.
GUARD_NAME = ".training.guard"
JOBS_DIR = ".jobs"
# Niceness of a training run the app starts (``--nice``): on a small machine
# the server and the people exploring come first.
APP_NICENESS = 10
MAX_LOCK_BYTES = 64_000  # the lock file's description
LOG_TAIL_BYTES = 64_000  # what log_tail reads from the end of a log
_DIGEST = re.compile(r"^[0-9a-f]{64}$")
_CHILDREN: dict[int, subprocess.Popen] = {}


class Busy(RuntimeError):
    """Another training run holds the lock."""


@dataclass(frozen=True)
class Job:
    """A training run: its process, name and where it reports.

    ``key`` lets its holder cancel the run; only :func:`start_job` returns it
    (a job found by :func:`current_job` has an empty key).
    """

    pid: int
    name: str
    progress_path: Path
    log_path: Path
    started: float
    key: str = field(default="", compare=False, repr=False)

    def progress(self) -> Progress | None:
        return read_progress(self.progress_path)

    def log_tail(self, lines: int = 5) -> str:
        try:
            with open(self.log_path, "rb") as handle:
                handle.seek(max(0, handle.seek(0, os.SEEK_END) - LOG_TAIL_BYTES))
                text = handle.read(LOG_TAIL_BYTES).decode(errors="replace")
        except OSError:
            return ""
        return "\n".join(text.splitlines()[-lines:])


def _root(root: Path | None) -> Path:
    return Path(root) if root is not None else trained_dir()


def _digest(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def _reap() -> None:
    """Collect the exit status of ended children (no zombies left behind)."""
    for pid, child in list(_CHILDREN.items()):
        if child.poll() is not None:
            _CHILDREN.pop(pid, None)


def _held(fd: int) -> bool:
    """Whether a process holds an exclusive flock on ``fd``'s file."""
    try:
        fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
    except BlockingIOError:
        return True
    fcntl.flock(fd, fcntl.LOCK_UN)
    return False


def _running(root: Path) -> tuple[Job, str] | None:
    """The running job and its key's digest, read from the held lock file."""
    _reap()
    try:
        fd = os.open(root / LOCK_NAME, os.O_RDONLY)
    except OSError:
        return None
    try:
        if not _held(fd):
            return None
        with os.fdopen(os.dup(fd), "rb") as handle:
            data = safe_json.loads(
                handle.read(MAX_LOCK_BYTES + 1), LOCK_NAME, MAX_LOCK_BYTES
            )
    except (OSError, ValueError):
        return None
    finally:
        os.close(fd)
    return _described(root, data)


def _described(root: Path, data: object) -> tuple[Job, str] | None:
    """The job a lock file's description names, if every field is valid.

    The progress and log paths are derived from the checked name, never taken
    from the file: a crafted lock file cannot make the page read other files.
    """
    if not isinstance(data, dict):
        return None
    pid, name, started = data.get("pid"), data.get("name"), data.get("started")
    digest = data.get("key_sha256")
    if not (
        whole_number(pid, 1, MAX_PID)
        and isinstance(name, str)
        and finite_number(started)
        and isinstance(digest, str)
        and _DIGEST.match(digest)
    ):
        return None
    try:
        check_name(name)
    except ValueError:
        return None
    progress, log = _job_paths(root / JOBS_DIR, name)
    return Job(pid, name, progress, log, float(started)), digest


def _job_paths(jobs: Path, name: str) -> tuple[Path, Path]:
    """Where the run ``name`` reports: its progress file and its log."""
    return jobs / f"{name}.progress.json", jobs / f"{name}.log"


def current_job(root: Path | None = None) -> Job | None:
    """The run now going in ``root``, or None (its key is not included)."""
    found = _running(_root(root))
    return found[0] if found is not None else None


def _command(
    config_path: Path, root: Path, name: str, progress: Path, name_given: bool = True
) -> list[str]:
    return [
        sys.executable,
        "-m",
        "vaeapp.train",
        "--config",
        str(config_path),
        "--out",
        str(root),
        *(("--name", name) if name_given else ()),
        "--progress-file",
        str(progress),
        "--quiet",
        "--nice",
        str(APP_NICENESS),
    ]


def start_job(
    model: ModelConfig,
    train: TrainConfig,
    name: str,
    root: Path | None = None,
    data: str | os.PathLike | None = None,
    keep: Iterable[Path | str] = (),
    refine: RefineConfig | None = None,
    name_given: bool = True,
) -> Job:
    """Train ``model`` with ``train`` as model ``name`` in ``root``, in a subprocess.

    The configs are written as a ``config.json`` document into the jobs folder
    and the subprocess reads them with ``--config``; ``data`` is passed as
    ``--data`` (None: the environment variable or Keras's download). Returns
    the job with its cancel key. Raises Busy when a run is going, ValueError
    for a bad name, and
    :class:`vaeapp.store.disk.LowDiskSpace` (an OSError) when the models folder's
    disk is below the floor. Before starting, the least recently used models
    beyond ``VAEAPP_MAX_MODELS`` are removed to make room (never those in
    ``keep``, the models live sessions show; see :func:`vaeapp.store.disk.make_room`).
    With ``refine`` the run refines q per image before it publishes
    (``--refine-...`` options). ``name_given`` False runs the command
    without ``--name``, as a command-line run that generated ``name`` was.
    """
    check_name(name)
    root = _root(root)
    root.mkdir(parents=True, exist_ok=True)
    jobs = root / JOBS_DIR
    jobs.mkdir(exist_ok=True)
    guard = os.open(root / GUARD_NAME, os.O_CREAT | os.O_RDWR, 0o644)
    try:
        fcntl.flock(guard, fcntl.LOCK_EX)
        if _running(root) is not None:
            raise Busy("a training run is already going; wait for it or cancel it")
        disk.make_room(root, keep)
        disk.check_free_space(root)
        return _start_locked(model, train, name, root, jobs, data, refine, name_given)
    finally:
        os.close(guard)  # closing the guard's only descriptor unlocks it


def continue_job(
    run: Unfinished, root: Path | None = None, keep: Iterable[Path | str] = ()
) -> Job:
    """Start the interrupted ``run`` again, as the same command, so that it
    continues from its checkpoint (:mod:`vaeapp.train.resume`); raises as
    :func:`start_job` does."""
    return start_job(
        run.model,
        run.train,
        run.name,
        root,
        data=run.data,
        keep=keep,
        refine=run.refine,
        name_given=run.name_given,
    )


def _start_locked(
    model: ModelConfig,
    train: TrainConfig,
    name: str,
    root: Path,
    jobs: Path,
    data: str | os.PathLike | None,
    refine: RefineConfig | None = None,
    name_given: bool = True,
) -> Job:
    """Start the run while holding the guard: a new lock file, flock-ed and
    inherited by the child, renamed over the old one once it is complete."""
    progress, log = _job_paths(jobs, name)
    config_path = jobs / f"{name}.config.json"
    source = resolve_path(train.dataset, data) or f"keras.datasets.{train.dataset}"
    write_json(config_path, config_document(model, train, str(source)))
    command = _command(config_path, root, name, progress, name_given)
    if data is not None:
        command += ["--data", str(data)]
    if refine is not None:
        command += as_arguments(refine, REFINE_PREFIX)
    fd, tmp = tempfile.mkstemp(prefix=f"{TEMP_PREFIX}{os.getpid()}-", dir=root)
    child = None
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        with open(log, "wb") as log_file:
            child = subprocess.Popen(
                command,
                stdout=log_file,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,
                env=single_process_environment(os.environ),
                pass_fds=(fd,),  # the child holds the lock until it ends
                cwd=Path(__file__).resolve().parents[2],
            )
        _CHILDREN[child.pid] = child
        key = secrets.token_urlsafe(16)
        job = Job(child.pid, name, progress, log, time.time(), key)
        description = {
            "pid": job.pid,
            "name": name,
            "progress": str(progress),
            "log": str(log),
            "started": job.started,
            "key_sha256": _digest(key),
        }
        os.write(fd, json.dumps(description).encode())
        os.fchmod(fd, 0o644)
        os.replace(tmp, root / LOCK_NAME)
    except BaseException:
        if child is not None:  # started, but its lock could not be installed
            child.kill()
        Path(tmp).unlink(missing_ok=True)
        raise
    finally:
        os.close(fd)  # the child's inherited descriptor keeps the lock
    return job


def cancel_job(key: str, root: Path | None = None) -> bool:
    """Ask the running job to stop (it publishes nothing) if ``key`` is the one
    :func:`start_job` returned for it; True if it was asked."""
    found = _running(_root(root))
    if found is None or not key or not secrets.compare_digest(_digest(key), found[1]):
        return False
    try:
        os.kill(found[0].pid, signal.SIGTERM)
    except ProcessLookupError:
        return False
    return True


def wait_job(job: Job, timeout: float) -> bool:
    """Wait up to ``timeout`` s for ``job``'s process to end; True if it did."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        child = _CHILDREN.get(job.pid)
        ended = (
            child.poll() is not None if child is not None else not pid_alive(job.pid)
        )
        if ended:
            _reap()
            return True
        time.sleep(0.1)
    return False
