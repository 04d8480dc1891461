"""Training runs started by the app: one at a time per server, in a subprocess.

The subprocess runs the same command as the CLI (``python -m vaeapp.train``)
and reports through a progress file; a lock file in the models folder makes
sure only one run goes at a time, across sessions and even across servers
sharing the folder. Nothing here imports Streamlit or TensorFlow.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from vaeapp.progress import Progress, read_progress
from vaeapp.store import check_name, pid_alive, trained_dir, write_json

LOCK_NAME = ".training.lock"
JOBS_DIR = ".jobs"
# Niceness of a training run the app starts (``--nice``): on a small machine
# the server and the people exploring come first.
APP_NICENESS = 10
_CHILDREN: dict[int, subprocess.Popen] = {}


class Busy(RuntimeError):
    """Another training run holds the lock."""


@dataclass(frozen=True)
class Job:
    """A training run: its process, name and where it reports."""

    pid: int
    name: str
    progress_path: Path
    log_path: Path
    started: float

    def progress(self) -> Progress | None:
        return read_progress(self.progress_path)

    def log_tail(self, lines: int = 5) -> str:
        try:
            return "\n".join(
                self.log_path.read_text(errors="replace").splitlines()[-lines:]
            )
        except OSError:
            return ""


def _root(root: Path | None) -> Path:
    return Path(root) if root is not None else trained_dir()


def _alive(pid: int) -> bool:
    child = _CHILDREN.get(pid)
    if child is not None:
        if child.poll() is None:
            return True
        _CHILDREN.pop(pid, None)
        return False
    return pid_alive(pid)


def _read_lock(root: Path) -> Job | None:
    try:
        data = json.loads((root / LOCK_NAME).read_text(encoding="utf-8"))
        return Job(
            pid=int(data["pid"]),
            name=str(data["name"]),
            progress_path=Path(data["progress"]),
            log_path=Path(data["log"]),
            started=float(data["started"]),
        )
    except (OSError, ValueError, KeyError, TypeError):
        return None


def current_job(root: Path | None = None) -> Job | None:
    """The run now going, or None; a lock left by a dead run is cleared."""
    root = _root(root)
    job = _read_lock(root)
    if job is None:
        if (root / LOCK_NAME).exists() and _lock_age(root) > 10:
            (root / LOCK_NAME).unlink(missing_ok=True)
        return None
    if _alive(job.pid):
        return job
    _release(root, job.pid)
    return None


def _lock_age(root: Path) -> float:
    try:
        return time.time() - (root / LOCK_NAME).stat().st_mtime
    except OSError:
        return 0.0


def _release(root: Path, pid: int) -> None:
    job = _read_lock(root)
    if job is not None and job.pid == pid:
        (root / LOCK_NAME).unlink(missing_ok=True)


def start_job(args: list[str], name: str, root: Path | None = None) -> Job:
    """Start ``python -m vaeapp.train ARGS`` writing model ``name`` into ``root``.

    Raises Busy when a run is going, ValueError for a bad name.
    """
    check_name(name)
    root = _root(root)
    root.mkdir(parents=True, exist_ok=True)
    if current_job(root) is not None:
        raise Busy("a training run is already going; wait for it or cancel it")
    try:
        fd = os.open(root / LOCK_NAME, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
    except FileExistsError:
        raise Busy("a training run is just starting; try again in a moment") from None
    os.close(fd)
    jobs = root / JOBS_DIR
    jobs.mkdir(exist_ok=True)
    progress_path, log_path = jobs / f"{name}.progress.json", jobs / f"{name}.log"
    command = [
        sys.executable,
        "-m",
        "vaeapp.train",
        *args,
        "--out",
        str(root),
        "--name",
        name,
        "--progress-file",
        str(progress_path),
        "--quiet",
        "--nice",
        str(APP_NICENESS),
    ]
    try:
        with open(log_path, "wb") as log:
            child = subprocess.Popen(
                command,
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,
                cwd=Path(__file__).resolve().parent.parent,
            )
    except OSError:
        (root / LOCK_NAME).unlink(missing_ok=True)
        raise
    _CHILDREN[child.pid] = child
    job = Job(child.pid, name, progress_path, log_path, time.time())
    write_json(
        root / LOCK_NAME,
        {
            "pid": job.pid,
            "name": name,
            "progress": str(progress_path),
            "log": str(log_path),
            "started": job.started,
        },
    )
    return job


def cancel_job(root: Path | None = None) -> bool:
    """Ask the running job to stop (it publishes nothing); True if one was asked."""
    job = current_job(root)
    if job is None:
        return False
    try:
        os.kill(job.pid, signal.SIGTERM)
    except ProcessLookupError:
        return False
    return True


def wait_job(job: Job, timeout: float) -> bool:
    """Wait up to ``timeout`` s for ``job`` to end; True if it did (for tests)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not _alive(job.pid):
            return True
        time.sleep(0.1)
    return False
