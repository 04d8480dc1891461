"""The training command's side of resumable runs: find the run's working
folder (:mod:`vaeapp.store.unfinished`), lock it, read the checkpoint a
killed run of the same command left, and clear it all once the model is
published.

The same command run again, on the same data, continues from the last epoch
that finished and says so in one line; ``--restart`` starts afresh instead,
replacing the checkpoint. A run whose name was generated keeps the name it
was first given, so it publishes one folder however often it was started.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import time
from dataclasses import dataclass, replace
from pathlib import Path

from vaeapp.core.config import ModelConfig, RefineConfig, TrainConfig
from vaeapp.data.sources import Dataset
from vaeapp.store import unfinished
from vaeapp.store.unfinished import CHECKPOINT_FILE, RunBusy, Unfinished
from vaeapp.train.distributed import Cluster
from vaeapp.train.loop import Checkpointing


@dataclass
class WorkingRun:
    """A run's working folder as this process holds it."""

    folder: Path
    name: str  # the model folder it publishes
    description: Unfinished
    checkpointing: Checkpointing
    main: bool
    lock: int | None = None  # the flock-ed descriptor (process 0)

    @property
    def epochs_done(self) -> int:
        """Epochs the checkpoint it continues from had finished (0: none)."""
        saved = self.checkpointing.resume
        return saved.epochs_done if saved is not None else 0

    def note(self) -> str | None:
        """The one line saying that the run continues, and from where."""
        if not self.epochs_done:
            return None
        return (
            f"continuing from epoch {self.epochs_done} of "
            f"{self.description.epochs}: an interrupted run of the same command "
            f"left its checkpoint in {self.folder} (--restart starts afresh)"
        )

    def saved(self, epochs_done: int) -> None:
        """Record in run.json that a checkpoint of ``epochs_done`` epochs was
        written (process 0)."""
        self.description = replace(
            self.description, epochs_done=epochs_done, updated=time.time()
        )
        unfinished.describe(self.folder, self.description)

    def close(self, remove: bool) -> None:
        """Let go of the working folder; with ``remove`` (process 0: the
        model is published, or the run diverged) delete it first."""
        if self.main and remove:
            shutil.rmtree(self.folder, ignore_errors=True)
            with contextlib.suppress(OSError):  # other runs' folders stay
                self.folder.parent.rmdir()
        if self.lock is not None:
            os.close(self.lock)
            self.lock = None


def open_run(
    parent: Path,
    name: str,
    *,
    name_given: bool,
    model: ModelConfig,
    train: TrainConfig,
    refine: RefineConfig | None,
    data: Dataset,
    data_arg: str | None,
    backend: str,
    cluster: Cluster,
    restart: bool = False,
) -> WorkingRun:
    """The run's working folder, locked by process 0, with the checkpoint it
    continues from (none with ``restart``, or the first time). ``name`` is
    the one generated or given; a generated one yields to the name the run
    was first started with. Raises ValueError when the same run is training
    in another process or its checkpoint cannot be read."""
    from vaeapp.train.checkpoint import read_checkpoint

    source = Path(data.source).expanduser()  # a path, or words such as "keras..."
    identity = unfinished.run_identity(
        model,
        train,
        data_source=str(source.resolve()) if source.exists() else data.source,
        name=name if name_given else None,
        refine=refine,
        backend=backend,
        processes=cluster.process_count,
    )
    folder = unfinished.working_folder(parent, identity)
    lock = None
    if cluster.is_main:
        try:
            lock = unfinished.hold(folder)
        except RunBusy as busy:
            raise ValueError(str(busy)) from None
    try:
        earlier = unfinished.read_run(folder)
        if earlier is not None and not name_given:
            if (Path(parent) / earlier.name).exists():
                restart = True  # published, then killed before clearing up
            else:
                name = earlier.name
        path = folder / CHECKPOINT_FILE
        if restart and cluster.is_main:
            path.unlink(missing_ok=True)
        saved = None if restart else read_checkpoint(path)
    except BaseException:
        if lock is not None:
            os.close(lock)
        raise
    description = Unfinished(
        identity=identity,
        name=name,
        model=model,
        train=train,
        data_source=data.source,
        data=str(Path(data_arg).expanduser().resolve()) if data_arg else None,
        refine=refine,
        name_given=name_given,
        epochs_done=saved.epochs_done if saved is not None else 0,
        updated=time.time(),
    )
    run = WorkingRun(
        folder, name, description, Checkpointing(path, saved), cluster.is_main, lock
    )
    if cluster.is_main:
        unfinished.describe(folder, description)
        run.checkpointing = replace(run.checkpointing, on_saved=run.saved)
    return run
