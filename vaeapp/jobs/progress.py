"""The progress file a training run writes and the app polls.

One JSON object, replaced atomically on every update, so a reader always sees
a complete state. ``state`` is one of :data:`STATES`. The app reads it as it
reads any file it did not write itself: every field is checked for type and
range, and anything amiss reads as no progress at all.
"""

from __future__ import annotations

import math
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from vaeapp.core import safe_json
from vaeapp.core.config import EPOCHS_MAX
from vaeapp.core.safe_json import finite_number, number_or_none, whole_number
from vaeapp.store.format import MAX_JSON_BYTES, MAX_ROW_KEYS
from vaeapp.store.writing import write_json

RUNNING, DONE, FAILED, CANCELLED = "running", "done", "failed", "cancelled"
STATES = ("starting", RUNNING, DONE, FAILED, CANCELLED)
# What the page's live curves read from every history row.
CURVE_KEYS = ("epoch", "recon", "kl")
MAX_MESSAGE_CHARS = 1000
MAX_NOTES = 20  # lines on what a run decided (the data, the split, the classes)
MAX_SECONDS_LEFT = 1e9
MAX_PATH_CHARS = 4096
MAX_PID = 2**31 - 1


@dataclass
class Progress:
    """A training run's state: epochs done, per-epoch history, outcome.

    ``notes`` are the lines the run printed on what it decided (the images'
    size and colour, a smaller validation split, classes without a test
    image); ``seconds_left`` is its estimate of the time to the last epoch's
    end (None: not known yet).
    """

    state: str = "starting"
    epochs: int = 0
    epoch: int = 0
    fraction: float = 0.0
    history: list[dict[str, float]] = field(default_factory=list)
    message: str = ""
    model_path: str = ""
    pid: int = 0
    updated: float = 0.0
    notes: list[str] = field(default_factory=list)
    seconds_left: float | None = None

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
    """The last complete progress written to ``path``, or None if there is none
    or it is not a valid progress (never raises for what the file holds)."""
    try:
        data: Any = safe_json.read(Path(path), MAX_JSON_BYTES)
    except (OSError, ValueError):
        return None
    return _checked(data)


def _checked(data: Any) -> Progress | None:
    """``data`` as a Progress if every field has its type and range."""
    if not isinstance(data, dict) or "state" not in data:
        return None
    known = {k: v for k, v in data.items() if k in Progress.__dataclass_fields__}
    progress = Progress(**known)
    fine = (
        isinstance(progress.state, str)
        and progress.state in STATES
        and whole_number(progress.epochs, 0, EPOCHS_MAX)
        and whole_number(progress.epoch, 0, EPOCHS_MAX)
        and finite_number(progress.fraction)
        and 0 <= progress.fraction <= 1
        and isinstance(progress.message, str)
        and isinstance(progress.model_path, str)
        and len(progress.model_path) <= MAX_PATH_CHARS
        and whole_number(progress.pid, 0, MAX_PID)
        and finite_number(progress.updated)
        and _rows_fine(progress.history)
        and isinstance(progress.notes, list)
        and len(progress.notes) <= MAX_NOTES
        and all(isinstance(note, str) for note in progress.notes)
        and _seconds_fine(progress.seconds_left)
    )
    if not fine:
        return None
    progress.fraction = float(progress.fraction)
    progress.updated = float(progress.updated)
    progress.message = safe_json.one_line(progress.message, MAX_MESSAGE_CHARS)
    progress.notes = [safe_json.one_line(n, MAX_MESSAGE_CHARS) for n in progress.notes]
    if progress.seconds_left is not None:
        progress.seconds_left = float(progress.seconds_left)
    return progress


def _seconds_fine(value: Any) -> bool:
    """None, or a number of seconds from 0 to MAX_SECONDS_LEFT."""
    return value is None or (finite_number(value) and 0 <= value <= MAX_SECONDS_LEFT)


def duration(seconds: float) -> str:
    """A time span as a person reads it: ``45 s``, ``12 min``, ``3 h 05 min``
    (rounded up, so that "1 min" never means 1 min 50 s)."""
    seconds = max(0, math.ceil(seconds))
    if seconds < 60:
        return f"{seconds} s"
    minutes = math.ceil(seconds / 60)
    if minutes < 60:
        return f"{minutes} min"
    return f"{minutes // 60} h {minutes % 60:02d} min"


def _rows_fine(history: Any) -> bool:
    """Whether ``history`` is at most EPOCHS_MAX rows the curves can plot."""
    return (
        isinstance(history, list)
        and len(history) <= EPOCHS_MAX
        and all(
            isinstance(row, dict)
            and len(row) <= MAX_ROW_KEYS
            and all(key in row for key in CURVE_KEYS)
            and whole_number(row["epoch"], 1, EPOCHS_MAX)
            and all(number_or_none(value) for value in row.values())
            for row in history
        )
    )
