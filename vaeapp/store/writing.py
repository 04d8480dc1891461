"""Writing model folders atomically, and sweeping what killed writers left.

A new folder is written under a temporary name in the same parent and renamed
into place (:func:`publish`), so no reader ever sees a half-written model, and
an existing folder is never replaced; a single file is replaced the same way
(:func:`write_atomic`). Temporary names carry the writer's process id, so that
:func:`remove_stale_temps` removes only those of writers no longer running.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import IO, Any

import numpy as np

from vaeapp.core.config import ModelConfig, RefineConfig, TrainConfig
from vaeapp.store.format import (
    CONFIG_FILE,
    DATA_KEY,
    FIGURES_FILE,
    FORMAT_VERSION,
    LATENTS_FILE,
    MAX_FOLDER_BYTES,
    METRICS_FILE,
    PLANES_FILE,
    REFINE_KEY,
    TEMP_PREFIX,
    ModelFolderError,
    check_name,
)
from vaeapp.store.reading import check_metrics, check_npz, load_model, read_json


def write_atomic(path: Path, write: Callable[[IO[bytes]], None]) -> None:
    """Write ``path`` atomically: ``write(handle)`` fills a temporary file in
    the same folder, which is then synced and renamed over ``path``."""
    fd, tmp = tempfile.mkstemp(
        prefix=f"{TEMP_PREFIX}{os.getpid()}-", suffix=path.suffix, dir=path.parent
    )
    try:
        with os.fdopen(fd, "wb") as handle:
            os.fchmod(handle.fileno(), 0o644)
            write(handle)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_json(path: Path, data: Any) -> None:
    """Write JSON atomically (:func:`write_atomic`)."""
    text = json.dumps(data, indent=1, allow_nan=False)
    write_atomic(path, lambda handle: handle.write(text.encode("utf-8")))


def write_posterior(
    folder: Path,
    mean: np.ndarray,
    log_var: np.ndarray,
    metrics: dict[str, Any],
    refine: RefineConfig | None,
) -> None:
    """Give ``folder`` a new q(z|x) for its test images: ``mean`` and
    ``log_var`` ``(n_test, latent_dim)`` in latents.npz (its other arrays
    kept), ``metrics`` as metrics.json and ``refine`` as config.json's
    section. Each file is replaced atomically, config.json last; the map's
    figures.npz and planes.npz, made from the old q, are removed first (the
    map's files of the new q: ``python -m vaeapp.evaluate --map --write``).
    The folder is checked with :func:`load_model` afterwards."""
    folder = Path(folder)
    path = folder / LATENTS_FILE
    check_npz(path)
    for stale in (FIGURES_FILE, PLANES_FILE):
        (folder / stale).unlink(missing_ok=True)
    with np.load(path, allow_pickle=False) as npz:
        arrays = {key: npz[key] for key in npz.files}
    arrays["mean"] = np.asarray(mean, np.float32)
    arrays["log_var"] = np.asarray(log_var, np.float32)
    write_atomic(path, lambda handle: np.savez_compressed(handle, **arrays))
    write_json(folder / METRICS_FILE, check_metrics(metrics))
    config = read_json(folder / CONFIG_FILE)
    config.pop(REFINE_KEY, None)
    if refine is not None:
        config[REFINE_KEY] = refine.to_dict()
    write_json(folder / CONFIG_FILE, config)
    load_model(folder)


def write_map_files(
    folder: Path, figures: dict[str, np.ndarray], planes: dict[str, np.ndarray]
) -> None:
    """Give ``folder`` its map's per-image ``figures`` (float32 ``(n,)`` each,
    in figures.npz) and ``planes`` (float32 ``(n, 2)`` each, in planes.npz),
    each file replaced atomically; an empty dict removes its file. The folder
    is checked with :func:`load_model` afterwards."""
    folder = Path(folder)
    for name, arrays in ((FIGURES_FILE, figures), (PLANES_FILE, planes)):
        path = folder / name
        if not arrays:
            path.unlink(missing_ok=True)
            continue
        stored = {key: np.asarray(value, np.float32) for key, value in arrays.items()}
        write_atomic(path, lambda handle, a=stored: np.savez_compressed(handle, **a))
    load_model(folder)


def config_document(
    model: ModelConfig,
    train: TrainConfig,
    data_source: str,
    data: dict[str, Any] | None = None,
) -> dict:
    """config.json's content; ``data`` (optional) holds ``class_names``,
    ``factor_names`` (lists or None) and ``train_images``
    (:func:`write_posterior` adds ``refine``)."""
    document = {
        "format_version": FORMAT_VERSION,
        "model": model.to_dict(),
        "train": train.to_dict(),
        "data_source": data_source,
    }
    if data is not None:
        document[DATA_KEY] = data
    return document


def publish(
    parent: Path,
    name: str,
    write_files: Callable[[Path], None],
) -> Path:
    """Write a model folder atomically and return its final path.

    ``write_files(tmp)`` fills a fresh temporary folder beside the destination;
    the folder is then checked with :func:`check_folder_size` and
    :func:`load_model` and renamed to
    ``parent/name``. If anything fails, or a folder of that name exists, the
    temporary folder is removed and nothing else on disk has changed.
    """
    check_name(name)
    parent = Path(parent)
    parent.mkdir(parents=True, exist_ok=True)
    final = parent / name
    if final.exists():
        raise FileExistsError(f"a model named {name!r} already exists in {parent}")
    tmp = Path(tempfile.mkdtemp(prefix=f"{TEMP_PREFIX}{os.getpid()}-", dir=parent))
    try:
        write_files(tmp)
        for child in tmp.iterdir():
            with open(child, "rb") as handle:
                os.fsync(handle.fileno())
        check_folder_size(tmp)
        load_model(tmp)
        tmp.chmod(0o755)
        os.rename(tmp, final)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    _fsync_dir(parent)
    return final


def folder_bytes(folder: Path) -> int:
    """The size of the files directly in ``folder`` (what its zip holds)."""
    return sum(
        child.stat().st_size for child in Path(folder).iterdir() if child.is_file()
    )


def check_folder_size(folder: Path) -> None:
    """Raise ModelFolderError if ``folder`` is over MAX_FOLDER_BYTES: it could
    not be uploaded again after a download."""
    size = folder_bytes(folder)
    if size > MAX_FOLDER_BYTES:
        raise ModelFolderError(
            f"the model's files take {size / 1e6:.1f} MB; the limit is "
            f"{MAX_FOLDER_BYTES / 1e6:.0f} MB, so that its zip can be uploaded again"
        )


def _fsync_dir(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def remove_stale_temps(parent: Path) -> list[Path]:
    """Delete temporary folders left by writers that no longer run.

    Temporary names carry the writer's process id; those of live processes are
    kept. Returns what was removed.
    """
    removed = []
    parent = Path(parent)
    if not parent.is_dir():
        return removed
    for child in parent.iterdir():
        if not child.name.startswith(TEMP_PREFIX):
            continue
        match = re.match(rf"{re.escape(TEMP_PREFIX)}(\d+)-", child.name)
        if match and pid_alive(int(match.group(1))):
            continue
        if child.is_dir():
            shutil.rmtree(child, ignore_errors=True)
        else:
            child.unlink(missing_ok=True)
        removed.append(child)
    return removed


def pid_alive(pid: int) -> bool:
    """Whether process ``pid`` exists (pids of 0 or less never count)."""
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
