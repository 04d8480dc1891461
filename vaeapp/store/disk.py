"""Bounded disk use of the models folder: how many models it keeps and how
much free space a new one needs.

A server keeps at most ``$VAEAPP_MAX_MODELS`` (default 20) models in its models
folder (``$VAEAPP_HOME``). Before a training run starts, and after an upload is
published, the least recently used models beyond that number are removed. A
model counts as used when a session loads or shows it: :func:`mark_used`
touches a marker file ``.used/<name>`` (at most once a minute per model), so
that several server processes sharing one models folder see each other's use.
Never removed: a folder used (or written) within the last
``$VAEAPP_KEEP_USED_MINUTES`` (default 60), one a caller names in ``keep``
(the models live sessions show), a folder holding anything but model files,
and anything in the shipped ``vaeapp/pretrained``.

A folder is removed by renaming it to a temporary name in the same parent (an
atomic step: a reader in another process finds it whole or not at all, and a
load of a vanished folder fails with ``ModelFolderError``), then deleting it;
:func:`vaeapp.store.writing.remove_stale_temps` sweeps what a killed remover
leaves. Removals are serialized across processes by an ``flock`` on
``.evict.lock``.

New models are refused (:class:`LowDiskSpace`) when the models folder's file
system has less than ``$VAEAPP_MIN_FREE_MB`` (default 500) megabytes free.
No Streamlit and no TensorFlow here.
"""

from __future__ import annotations

import fcntl
import os
import shutil
import time
from collections.abc import Iterable
from pathlib import Path

from vaeapp.store.format import MODEL_FILES, PRETRAINED_DIR, TEMP_PREFIX, trained_dir

MAX_MODELS_ENV = "VAEAPP_MAX_MODELS"
MIN_FREE_ENV = "VAEAPP_MIN_FREE_MB"
KEEP_USED_ENV = "VAEAPP_KEEP_USED_MINUTES"
DEFAULT_MAX_MODELS = 20
DEFAULT_MIN_FREE_MB = 500
DEFAULT_KEEP_USED_MINUTES = 60
USED_DIR = ".used"
EVICT_LOCK = ".evict.lock"
MARK_EVERY_S = 60.0
_MB = 1_000_000


class LowDiskSpace(OSError):
    """The models folder's disk is below the free-space floor."""


def _env_int(name: str, default: int, low: int) -> int:
    text = os.environ.get(name, "").strip()
    if not text:
        return default
    try:
        value = int(text)
    except ValueError:
        value = low - 1
    if value < low:
        raise ValueError(
            f"the server setting {name} must be a whole number of at least {low}, "
            f"got {text[:40]!r}"
        )
    return value


def max_models() -> int:
    """``$VAEAPP_MAX_MODELS``: how many models the models folder keeps (>= 1)."""
    return _env_int(MAX_MODELS_ENV, DEFAULT_MAX_MODELS, 1)


def min_free_bytes() -> int:
    """``$VAEAPP_MIN_FREE_MB`` in bytes: the free space a new model needs."""
    return _env_int(MIN_FREE_ENV, DEFAULT_MIN_FREE_MB, 0) * _MB


def keep_used_seconds() -> float:
    """``$VAEAPP_KEEP_USED_MINUTES`` in seconds: recently used models stay."""
    return _env_int(KEEP_USED_ENV, DEFAULT_KEEP_USED_MINUTES, 0) * 60.0


def check_free_space(root: Path | None = None) -> None:
    """Raise LowDiskSpace if the models folder's disk has less free space than
    the floor (ValueError for a malformed setting)."""
    max_models()  # a malformed setting is reported before anything is written
    floor = min_free_bytes()
    folder = Path(root) if root is not None else trained_dir()
    while not folder.exists() and folder != folder.parent:
        folder = folder.parent  # the models folder may not exist yet
    free = shutil.disk_usage(folder).free
    if free < floor:
        raise LowDiskSpace(
            f"the server's disk is nearly full ({free / _MB:.0f} MB free; a new "
            f"model needs at least {floor / _MB:.0f} MB): try again later or ask "
            "its administrator"
        )


def _is_pretrained(folder: Path) -> bool:
    try:
        return folder.resolve().is_relative_to(PRETRAINED_DIR)
    except OSError:
        return True  # when in doubt, never touch it


def mark_used(folder: Path, now: float | None = None) -> None:
    """Record that ``folder`` is in use (at most once a minute; never for a
    shipped model). Errors writing the marker are ignored: it is a hint."""
    folder = Path(folder)
    if _is_pretrained(folder):
        return
    now = time.time() if now is None else now
    marker = folder.parent / USED_DIR / folder.name
    if now - _mtime(marker) < MARK_EVERY_S:
        return
    try:
        marker.parent.mkdir(exist_ok=True)
        marker.touch()
        os.utime(marker, (now, now))
    except OSError:
        return


def _mtime(path: Path) -> float:
    """``path``'s modification time, or 0 if it has none."""
    try:
        return path.stat().st_mtime
    except OSError:
        return 0.0


def last_used(folder: Path) -> float:
    """When ``folder`` was last used or written (its marker's or its own
    modification time, whichever is later); 0 if it cannot be told."""
    folder = Path(folder)
    return max(_mtime(folder), _mtime(folder.parent / USED_DIR / folder.name))


def _model_folders(root: Path) -> list[Path]:
    """Folders in ``root`` that hold only model files: what eviction may count
    and remove (anything else there was not written by this app)."""
    found = []
    try:
        children = list(root.iterdir())
    except OSError:
        return found
    for child in children:
        if child.name.startswith(".") or child.is_symlink() or not child.is_dir():
            continue
        try:
            names = [entry.name for entry in child.iterdir()]
        except OSError:
            continue
        if names and all(name in MODEL_FILES for name in names):
            found.append(child)
    return found


def make_room(
    root: Path | None = None,
    keep: Iterable[Path | str] = (),
    adding: int = 1,
    now: float | None = None,
) -> list[str]:
    """Remove least recently used models so that ``adding`` more fit under
    ``max_models()``; returns the names removed, oldest first.

    Spared: folders in ``keep``, those used within ``keep_used_seconds()``,
    anything that is not a plain model folder, and the shipped models (a
    ``root`` inside ``vaeapp/pretrained`` removes nothing). Fewer are removed
    if too few may go. Errors while removing are skipped, never raised.
    """
    root = Path(root) if root is not None else trained_dir()
    if _is_pretrained(root) or not root.is_dir():
        return []
    target = max(max_models() - adding, 0)
    window = keep_used_seconds()
    kept = set()
    for path in keep:
        try:
            kept.add(Path(path).resolve())
        except OSError:
            continue
    removed: list[str] = []
    if len(_model_folders(root)) <= target:
        return removed  # the common case: no lock file, nothing written
    try:
        lock = os.open(root / EVICT_LOCK, os.O_CREAT | os.O_RDWR, 0o644)
    except OSError:
        return removed
    try:
        fcntl.flock(lock, fcntl.LOCK_EX)
        folders = _model_folders(root)  # again: another remover may have run
        excess = len(folders) - target
        if excess <= 0:
            return removed
        now = time.time() if now is None else now
        candidates = sorted(
            (last_used(f), f.name, f)
            for f in folders
            if f.resolve() not in kept and now - last_used(f) >= window
        )
        for _, name, folder in candidates[:excess]:
            if _remove(root, folder):
                removed.append(name)
    finally:
        os.close(lock)
    return removed


def _remove(root: Path, folder: Path) -> bool:
    """Rename ``folder`` aside (atomic), then delete it and its marker."""
    aside = root / f"{TEMP_PREFIX}{os.getpid()}-evicted-{folder.name}"
    try:
        os.rename(folder, aside)
    except OSError:
        return False  # gone already, or another remover got there first
    shutil.rmtree(aside, ignore_errors=True)
    (root / USED_DIR / folder.name).unlink(missing_ok=True)
    return True
