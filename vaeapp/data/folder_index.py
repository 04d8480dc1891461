"""The file list of an image folder, the name of its cache, and where caches live.

A folder is listed once per run: the class subfolders are walked in parallel
threads (each in the sorted order :func:`vaeapp.data.image_folder.list_files`
keeps), and every file's relative path, size and modification time go into a
SHA-256 digest. That digest, with the image size, colour and background the
images are decoded to, names the folder's preprocessing cache
(:mod:`vaeapp.data.folder_cache`): a file added, removed, replaced or touched
gives another name, so a stale cache is never read.

Caches live in :func:`cache_root`: ``$VAEAPP_CACHE_DIR`` when set, else
``$XDG_CACHE_HOME/vaeapp`` (``~/.cache/vaeapp``), under ``folders/``.
"""

from __future__ import annotations

import hashlib
import os
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

CACHE_ENV = "VAEAPP_CACHE_DIR"
MAX_FILES = 10_000_000
MAX_CLASSES = 1_000
LIST_THREADS = 8  # stat calls wait on the disk, not the CPU


class ListingError(ValueError):
    """The folder cannot be listed as a data set (one line)."""


@dataclass(frozen=True)
class Listing:
    """The candidate files of a folder: ``paths`` relative to ``folder`` in
    the order they are read, ``labels`` (index into ``class_names``, or None
    for a flat folder) and the ``digest`` of paths, sizes and times."""

    folder: Path
    paths: tuple[str, ...]
    labels: tuple[int, ...] | None
    class_names: tuple[str, ...] | None
    digest: str

    def __len__(self) -> int:
        return len(self.paths)


def cache_root(environ: dict[str, str] | None = None) -> Path:
    """Where preprocessing caches are kept (see the module docstring)."""
    env = os.environ if environ is None else environ
    if env.get(CACHE_ENV):
        return Path(env[CACHE_ENV]).expanduser()
    base = env.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base).expanduser() / "vaeapp"


def _walk(top: Path, base: Path) -> list[tuple[str, int, int]]:
    """``(relative path, size, mtime_ns)`` of the visible files under ``top``,
    each folder's files in sorted order before its sorted subfolders."""
    found: list[tuple[str, int, int]] = []
    for root, dirs, names in os.walk(top):
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        for name in sorted(n for n in names if not n.startswith(".")):
            path = os.path.join(root, name)
            try:
                stat = os.stat(path)
            except OSError:
                continue  # vanished while listed: not a candidate
            found.append((os.path.relpath(path, base), stat.st_size, stat.st_mtime_ns))
        if len(found) > MAX_FILES:
            break
    return found


def _flat(folder: Path, entries: list[os.DirEntry]) -> list[tuple[str, int, int]]:
    found = []
    for entry in entries:
        if entry.is_file():
            stat = entry.stat()
            found.append((entry.name, stat.st_size, stat.st_mtime_ns))
    return found


def list_folder(folder: Path) -> Listing:
    """The candidate files of ``folder`` (one subfolder per class, or flat).

    Raises ListingError when it cannot be listed, has over MAX_CLASSES class
    subfolders or over MAX_FILES files.
    """
    try:
        with os.scandir(folder) as scan:
            entries = sorted(
                (e for e in scan if not e.name.startswith(".")), key=lambda e: e.name
            )
    except OSError as error:
        raise ListingError(f"cannot list {folder}: {error.strerror}") from None
    classes = [e for e in entries if e.is_dir()]
    if len(classes) > MAX_CLASSES:
        raise ListingError(
            f"{folder} has {len(classes):,} class subfolders; at most {MAX_CLASSES:,}"
        )
    if classes:
        with ThreadPoolExecutor(LIST_THREADS) as pool:
            parts = list(pool.map(lambda e: _walk(Path(e.path), folder), classes))
    else:
        parts = [_flat(folder, entries)]
    total = sum(len(part) for part in parts)
    if total > MAX_FILES:
        raise ListingError(f"{folder} holds over {MAX_FILES:,} files; use fewer")
    digest = hashlib.sha256()
    paths: list[str] = []
    labels: list[int] = []
    for label, part in enumerate(parts):
        for path, size, mtime in part:
            line = f"{label}\0{path}\0{size}\0{mtime}\n"
            digest.update(line.encode("utf-8", "surrogateescape"))
            paths.append(path)
        labels += [label] * len(part)
    return Listing(
        folder=folder,
        paths=tuple(paths),
        labels=tuple(labels) if classes else None,
        class_names=tuple(e.name for e in classes) if classes else None,
        digest=digest.hexdigest(),
    )
