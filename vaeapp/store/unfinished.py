"""The working folders of training runs not yet published: where a run keeps
its checkpoint, how the same command run again finds it, and which runs were
interrupted.

A run's identity is a digest of everything that decides what it publishes
(:func:`run_identity`): the model and training settings, the refinement, the
data source, the name asked for (None when generated), the backend and the
number of processes. Options that change only how a run reports (the
progress file, ``--quiet``, ``--nice``) or where its peers meet
(``--coordinator``) are left out, so the same command run again, after a
kill, a reboot or a preemption, has the same identity.

Its working folder is ``PARENT/.unfinished/IDENTITY/`` beside the model
folders it will publish into (a dot folder: the model lists, the eviction of
old models and the sweep of temporary files all pass it by). It holds
``run.json`` (:class:`Unfinished`: the name, the settings to run it again,
the epochs finished), ``checkpoint.npz`` (written by
:mod:`vaeapp.train.checkpoint` after each epoch, atomically) and ``lock``,
``flock``-ed by the process that trains, so that a second copy of the same
command is refused and a listing tells a running run from an interrupted one.
A run that publishes, or whose loss diverged, removes its working folder.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from vaeapp.core import safe_json
from vaeapp.core.config import EPOCHS_MAX, ModelConfig, RefineConfig, TrainConfig
from vaeapp.core.safe_json import finite_number, whole_number
from vaeapp.store.format import MAX_JSON_BYTES, check_name
from vaeapp.store.writing import write_json

UNFINISHED_DIR = ".unfinished"
RUN_FILE = "run.json"
CHECKPOINT_FILE = "checkpoint.npz"
LOCK_FILE = "lock"
IDENTITY_CHARS = 20  # hex digits of the digest: 80 bits name a run
MAX_RUN_BYTES = MAX_JSON_BYTES  # run.json: settings and a little more


class RunBusy(RuntimeError):
    """Another process is training the same run now."""


@dataclass(frozen=True)
class Unfinished:
    """A run's description as ``run.json`` holds it: what to run again and
    how far it got."""

    identity: str
    name: str  # the model folder it publishes
    model: ModelConfig
    train: TrainConfig
    data_source: str
    data: str | None = None  # the --data given, None: the default source
    refine: RefineConfig | None = None
    name_given: bool = True  # False: generated, so not part of its identity
    epochs_done: int = 0
    updated: float = 0.0
    folder: Path | None = None  # where it was read from

    @property
    def epochs(self) -> int:
        return self.train.epochs

    def to_dict(self) -> dict[str, Any]:
        return {
            "identity": self.identity,
            "name": self.name,
            "model": self.model.to_dict(),
            "train": self.train.to_dict(),
            "data_source": self.data_source,
            "data": self.data,
            "refine": None if self.refine is None else self.refine.to_dict(),
            "name_given": self.name_given,
            "epochs_done": self.epochs_done,
            "updated": self.updated,
        }


def run_identity(
    model: ModelConfig,
    train: TrainConfig,
    *,
    data_source: str,
    name: str | None,
    refine: RefineConfig | None = None,
    backend: str = "tensorflow",
    processes: int = 1,
) -> str:
    """The digest that names a run's working folder: the same for the same
    settings, data, asked-for name, backend and process count."""
    document = {
        "model": model.to_dict(),
        "train": train.to_dict(),
        "refine": None if refine is None else refine.to_dict(),
        "data_source": data_source,
        "name": name,
        "backend": backend,
        "processes": processes,
    }
    text = json.dumps(document, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:IDENTITY_CHARS]


def working_folder(parent: Path, identity: str) -> Path:
    """Where the run ``identity`` keeps its files before it publishes."""
    if len(identity) != IDENTITY_CHARS or not all(
        c in "0123456789abcdef" for c in identity
    ):
        raise ValueError(f"{identity!r} is not a run identity")
    return Path(parent) / UNFINISHED_DIR / identity


def describe(folder: Path, run: Unfinished) -> None:
    """Write ``run`` as ``folder``'s ``run.json`` (atomically)."""
    write_json(Path(folder) / RUN_FILE, run.to_dict())


def read_run(folder: Path) -> Unfinished | None:
    """The run ``folder``'s ``run.json`` describes, or None when there is
    none or it is not valid (never raises for what the file holds)."""
    try:
        data = safe_json.read(Path(folder) / RUN_FILE, MAX_RUN_BYTES)
    except (OSError, ValueError):
        return None
    if not isinstance(data, dict):
        return None
    try:
        return _checked(data, Path(folder))
    except (TypeError, ValueError):
        return None


def _checked(data: dict[str, Any], folder: Path) -> Unfinished | None:
    """``data`` as an Unfinished run, if every field has its type and range;
    raises ValueError or TypeError for settings out of range."""
    identity, name = data.get("identity"), data.get("name")
    source, given = data.get("data_source"), data.get("data")
    done, updated = data.get("epochs_done"), data.get("updated")
    name_given = data.get("name_given")
    if not (
        isinstance(name_given, bool)
        and isinstance(identity, str)
        and identity == folder.name
        and isinstance(name, str)
        and isinstance(source, str)
        and (given is None or isinstance(given, str))
        and whole_number(done, 0, EPOCHS_MAX)
        and finite_number(updated)
    ):
        return None
    check_name(name)
    refine = data.get("refine")
    return Unfinished(
        identity=identity,
        name=name,
        model=ModelConfig.from_dict(data.get("model")),
        train=TrainConfig.from_dict(data.get("train")),
        data_source=safe_json.one_line(source, 500),
        data=given,
        refine=None if refine is None else RefineConfig.from_dict(refine),
        name_given=name_given,
        epochs_done=int(done),
        updated=float(updated),
        folder=folder,
    )


def hold(folder: Path) -> int:
    """Lock ``folder`` (created if need be) for this process and return the
    lock's descriptor, to keep open while training; raises RunBusy when
    another process holds it. The kernel frees the lock when the process
    ends, however it ends."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    fd = os.open(folder / LOCK_FILE, os.O_CREAT | os.O_RDWR, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(fd)
        raise RunBusy(
            "the same run (same settings, data and name) is already training "
            f"in another process; its files are in {folder}"
        ) from None
    return fd


def _held(folder: Path) -> bool:
    """Whether a process holds ``folder``'s lock now."""
    try:
        fd = os.open(folder / LOCK_FILE, os.O_RDONLY)
    except OSError:
        return False
    try:
        fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
    except BlockingIOError:
        return True
    finally:
        os.close(fd)
    return False


def interrupted_runs(parent: Path) -> list[Unfinished]:
    """The runs in ``parent`` that finished at least one epoch, stopped
    before publishing and are not training now; latest first."""
    parent = Path(parent)
    root = parent / UNFINISHED_DIR
    try:
        folders = [child for child in root.iterdir() if child.is_dir()]
    except OSError:
        return []
    runs = []
    for folder in folders:
        if not (folder / CHECKPOINT_FILE).is_file() or _held(folder):
            continue
        run = read_run(folder)
        # A model folder of its name: published, then killed before clearing.
        if run is not None and run.epochs_done and not (parent / run.name).exists():
            runs.append(run)
    return sorted(runs, key=lambda run: run.updated, reverse=True)


def discard(folder: Path) -> bool:
    """Remove an interrupted run's working folder, unless it is training
    now; True if it was removed."""
    folder = Path(folder)
    if folder.parent.name != UNFINISHED_DIR:
        raise ValueError(f"{folder} is not a run's working folder")
    try:
        fd = hold(folder)
    except RunBusy:
        return False
    try:
        shutil.rmtree(folder, ignore_errors=True)
    finally:
        os.close(fd)
    return True
