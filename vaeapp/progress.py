"""The progress file a training run writes and the app polls.

One JSON object, replaced atomically on every update, so a reader always sees
a complete state. ``state`` is one of :data:`STATES`.
"""

from __future__ import annotations

import json
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from vaeapp.store import write_json

RUNNING, DONE, FAILED, CANCELLED = "running", "done", "failed", "cancelled"
STATES = ("starting", RUNNING, DONE, FAILED, CANCELLED)


@dataclass
class Progress:
    """A training run's state: epochs done, per-epoch history, outcome."""

    state: str = "starting"
    epochs: int = 0
    epoch: int = 0
    fraction: float = 0.0
    history: list[dict[str, float]] = field(default_factory=list)
    message: str = ""
    model_path: str = ""
    pid: int = 0
    updated: float = 0.0

    @property
    def finished(self) -> bool:
        return self.state in (DONE, FAILED, CANCELLED)


def write_progress(path: Path | None, progress: Progress) -> None:
    """Atomically replace ``path`` with ``progress``; no-op when path is None."""
    if path is None:
        return
    progress.updated = time.time()
    write_json(Path(path), asdict(progress))


def read_progress(path: Path) -> Progress | None:
    """The last complete progress written to ``path``, or None if there is none."""
    try:
        data: Any = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(data, dict) or data.get("state") not in STATES:
        return None
    known = {k: v for k, v in data.items() if k in Progress.__dataclass_fields__}
    try:
        return Progress(**known)
    except TypeError:
        return None
