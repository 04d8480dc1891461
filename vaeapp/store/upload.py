"""Import a model zip made by this app's download button, safely.

The zip must hold the model folder's files at its root and nothing else:
``config.json``, ``metrics.json``, ``model.weights.h5``, ``latents.npz`` and,
optionally, ``snapshots.npz``. Everything is checked before anything is
published: the archive's size, every member's name, type, flags and declared
size (enforced again while unpacking, in chunks), the JSON documents, the inner
layout of the ``.npz`` files, the HDF5 object graph, and finally, through
:func:`vaeapp.store.writing.publish`, the full
:func:`vaeapp.store.reading.load_model` check
(configs, weight shapes against the config, finiteness, no HDF5 links). Nothing
is ever executed or unpickled: a ``.keras`` file or any other member is refused
by name and never opened. Nothing on disk changes unless the model is valid.
No Streamlit and no TensorFlow here.
"""

from __future__ import annotations

import io
import os
import re
import stat
import zipfile
import zlib
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from vaeapp.core import safe_json
from vaeapp.core.safe_json import finite_number
from vaeapp.inference.weights_file import WeightsError, check_h5_structure
from vaeapp.store import disk
from vaeapp.store.format import (
    CONFIG_FILE,
    CONFIG_KEYS,
    LATENTS_FILE,
    MAX_JSON_BYTES,
    MAX_SOURCE_CHARS,
    METRICS_FILE,
    MODEL_FILES,
    REQUIRED_FILES,
    SNAPSHOTS_FILE,
    WEIGHTS_FILE,
    ModelFolderError,
    check_name,
)
from vaeapp.store.reading import check_metrics, check_npz
from vaeapp.store.writing import publish

# The upload limit, in Streamlit's megabytes (MiB), when the caller gives
# none: the server's administrator sets it as Streamlit's server.maxUploadSize
# (.streamlit/config.toml, or $STREAMLIT_SERVER_MAX_UPLOAD_SIZE), which the
# page passes on. It caps uploads only: training writes folders of any size,
# so a model larger than it can be explored where it was trained but not
# uploaded to a server with a smaller cap (docs/deployment.md).
UPLOAD_LIMIT_MB = 50
MAX_ZIP_BYTES = UPLOAD_LIMIT_MB << 20  # the uploaded archive itself
MAX_UNPACKED_BYTES = 50_000_000  # all members together, at least
UNPACKED_PER_ZIPPED = 2  # and up to this many times the upload limit
MAX_RATIO = 100  # uncompressed / compressed size of any member
CHUNK_BYTES = 1 << 20
# The per-epoch curves of the Tools tab read these keys from every history row.
HISTORY_KEYS = ("epoch", "recon", "kl")
DEFAULT_NAME = "uploaded-model"
_MB = 1_000_000


class UploadError(ValueError):
    """An uploaded model zip was refused; the message says why, in one line."""


_one_line = safe_json.one_line


def _shown(name: str) -> str:
    return repr(name) if len(name) <= 60 else repr(name[:57] + "...")


def import_model_zip(
    data: bytes,
    parent: Path,
    name: str,
    keep: Iterable[Path] = (),
    limit_mb: int = UPLOAD_LIMIT_MB,
) -> Path:
    """Check the model zip ``data`` and publish it as ``parent/name``.

    ``limit_mb`` caps the zip (MiB) and, ``UNPACKED_PER_ZIPPED`` times
    over, what it and its .npz files unpack to. Returns the new folder.
    Raises :class:`UploadError` with a one-line reason
    if anything is wrong, in which case nothing on disk has changed (``parent``
    may have been created, empty, if the zip itself passed the first checks).
    Refused when the models folder's disk has less than ``VAEAPP_MIN_FREE_MB``
    free. Once the model is published, the least recently used models beyond
    ``VAEAPP_MAX_MODELS`` are removed (never the new one nor those in ``keep``;
    see :func:`vaeapp.store.disk.make_room`).
    """
    if isinstance(data, (bytearray, memoryview)):
        data = bytes(data)
    if not isinstance(data, bytes):
        raise UploadError(f"the upload must be bytes, got {type(data).__name__}")
    if not data:
        raise UploadError("the upload is empty")
    if len(data) > limit_mb << 20:
        raise UploadError(
            f"the upload is {len(data) / (1 << 20):.1f} MB; the limit is {limit_mb} MB"
        )
    unpacked = max(MAX_UNPACKED_BYTES, UNPACKED_PER_ZIPPED * (limit_mb << 20))
    try:
        check_name(name)
    except ValueError as error:
        raise UploadError(_one_line(error)) from None
    parent = Path(parent)
    if os.path.lexists(parent / name):
        raise UploadError(f"a model named {name!r} already exists")
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, EOFError, OSError):
        raise UploadError("the upload is not a valid zip archive") from None
    with archive:
        members = _check_members(archive, unpacked)
        try:
            disk.check_free_space(parent)
        except (OSError, ValueError) as error:
            raise UploadError(_one_line(error)) from None

        def write_files(folder: Path) -> None:
            _extract(archive, members, folder, unpacked)
            _check_json(folder)
            _check_npz(folder / LATENTS_FILE, unpacked)
            if (folder / SNAPSHOTS_FILE).exists():
                _check_npz(folder / SNAPSHOTS_FILE, unpacked)
            _check_weights(folder / WEIGHTS_FILE)

        try:
            path = publish(parent, name, write_files)
        except ModelFolderError as error:
            raise UploadError(f"not a valid model: {_one_line(error)}") from None
        except FileExistsError:
            raise UploadError(f"a model named {name!r} already exists") from None
    disk.make_room(parent, [*keep, path], adding=0)
    return path


def _check_members(archive: zipfile.ZipFile, unpacked: int) -> list[zipfile.ZipInfo]:
    """Every member must be one allowed file at the root, plain and bounded."""
    members = archive.infolist()
    seen: set[str] = set()
    total = 0
    for info in members:
        name = info.filename
        if name != info.orig_filename or name not in MODEL_FILES:
            raise UploadError(
                f"the zip holds {_shown(info.orig_filename)}, which is not a model "
                f"file; allowed at the zip's root: {', '.join(MODEL_FILES)}"
            )
        if name in seen:
            raise UploadError(f"the zip holds {name} more than once")
        seen.add(name)
        if info.flag_bits & 0x1:
            raise UploadError(f"{name} is encrypted in the zip")
        _check_file_type(info)
        if info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
            raise UploadError(f"{name} uses an unsupported compression method")
        total += info.file_size
        if total > unpacked:
            raise UploadError(f"the zip unpacks to more than {unpacked / _MB:.0f} MB")
        if info.file_size > MAX_RATIO * max(info.compress_size, 1):
            raise UploadError(
                f"{name} is compressed more than {MAX_RATIO} to 1 (a zip bomb?)"
            )
    missing = [f for f in REQUIRED_FILES if f not in seen]
    if missing:
        raise UploadError(f"the zip lacks {', '.join(missing)}")
    return members


# The Unix file types a zip member may claim that are not regular files.
_SPECIAL_TYPES = {
    stat.S_IFLNK: "symbolic link",
    stat.S_IFDIR: "folder",
    stat.S_IFIFO: "FIFO",
    stat.S_IFSOCK: "socket",
    stat.S_IFCHR: "device",
    stat.S_IFBLK: "device",
}


def _check_file_type(info: zipfile.ZipInfo) -> None:
    """Refuse a member whose Unix mode (``external_attr``'s high 16 bits) marks
    a link, folder or other special file. No file-type bits at all (what
    ``ZipFile.writestr(name, data)`` and non-Unix zippers write) is a regular
    file: only the permission bits, if any, are set."""
    kind = stat.S_IFMT(info.external_attr >> 16)
    if kind and kind != stat.S_IFREG:
        what = _SPECIAL_TYPES.get(kind, f"special file (type {kind:#o})")
        raise UploadError(f"{info.filename} is a {what} in the zip, not a regular file")


def _extract(
    archive: zipfile.ZipFile,
    members: list[zipfile.ZipInfo],
    folder: Path,
    unpacked: int,
) -> None:
    """Unpack in chunks, holding every member to its header and the limits."""
    total = 0
    for info in members:
        limit = min(info.file_size, MAX_RATIO * max(info.compress_size, 1))
        written = 0
        try:
            with (
                archive.open(info) as source,
                open(folder / info.filename, "xb") as out,
            ):
                while chunk := source.read(CHUNK_BYTES):
                    written += len(chunk)
                    if written > limit or total + written > unpacked:
                        raise UploadError(
                            f"{info.filename} unpacks to more than its zip header "
                            "or the size limits allow (a zip bomb?)"
                        )
                    out.write(chunk)
        except (zipfile.BadZipFile, zlib.error, EOFError) as error:
            raise UploadError(
                f"{info.filename} is corrupt in the zip: {_one_line(error)}"
            ) from None
        total += written


def _read_json(path: Path) -> Any:
    try:
        return safe_json.read(path, MAX_JSON_BYTES)
    except safe_json.JSONRefused as error:
        raise UploadError(str(error)) from None


def _check_json(folder: Path) -> None:
    """What the store leaves open: unknown keys, the shown source, the history."""
    config = _read_json(folder / CONFIG_FILE)
    if not isinstance(config, dict):
        raise UploadError(f"{CONFIG_FILE} is not a JSON object")
    unknown = set(config) - CONFIG_KEYS
    if unknown:
        raise UploadError(
            f"{CONFIG_FILE} has unknown keys {sorted(unknown)}; "
            f"allowed: {sorted(CONFIG_KEYS)}"
        )
    source = config.get("data_source")
    if isinstance(source, str) and (
        len(source) > MAX_SOURCE_CHARS
        or not source.isprintable()
        or any(c in source for c in "[]<>")
    ):
        raise UploadError(
            f"{CONFIG_FILE} data_source must be at most {MAX_SOURCE_CHARS} "
            "printable characters without [ ] < >"
        )
    try:
        metrics = check_metrics(_read_json(folder / METRICS_FILE))
    except ModelFolderError as error:
        raise UploadError(str(error)) from None
    # Stricter than a folder on the server: every row has the figures the
    # training curves plot.
    for row in metrics.get("history", []):
        if (
            not isinstance(row, dict)
            or not all(key in row for key in HISTORY_KEYS)
            or not all(finite_number(value) for value in row.values())
            or not isinstance(row["epoch"], int)
        ):
            raise UploadError(
                f"{METRICS_FILE} history rows must map {', '.join(HISTORY_KEYS)} "
                "(and any others) to finite numbers"
            )


def _check_npz(path: Path, max_bytes: int) -> None:
    """Bound what ``np.load`` will allocate: sizes declared inside the .npz,
    at most ``max_bytes`` together."""
    try:
        check_npz(path, max_bytes)
    except ModelFolderError as error:
        raise UploadError(str(error)) from None


def _check_weights(path: Path) -> None:
    """Walk the HDF5 graph once: no links, cycles, virtual or external data."""
    try:
        check_h5_structure(path)
    except WeightsError as error:
        raise UploadError(_one_line(error, 200)) from None


def suggest_name(filename: str, parent: Path) -> str:
    """A safe folder name, unused in ``parent``, from an uploaded file's name.

    ``"My model (2).zip"`` -> ``"My-model-2"``, then ``"My-model-2-2"`` and so
    on if taken; ``"uploaded-model"`` when nothing usable is left.
    """
    base = re.split(r"[\\/]", str(filename or ""))[-1]
    if base.lower().endswith(".zip"):
        base = base[:-4]
    stem = re.sub(r"[^A-Za-z0-9_.-]+", "-", base)
    stem = re.sub(r"\.{2,}", ".", stem)
    stem = stem.strip("._-")[:56].rstrip("._-") or DEFAULT_NAME
    parent = Path(parent)
    candidate, number = stem, 1
    while os.path.lexists(parent / candidate):
        number += 1
        candidate = f"{stem}-{number}"
    return check_name(candidate)
