"""Array files given as training data: an ``.npz`` of ``.npy`` arrays, and the
four IDX files of the official MNIST and Fashion-MNIST downloads.

The one reader of an ``.npy`` header is here (:func:`read_npy_header`): the
data's ``.npz`` check below and the model folder's
(:func:`vaeapp.store.reading.check_npz`) both bound what ``np.load`` would
allocate by what the headers declare, each refusing with its own error.
"""

from __future__ import annotations

import gzip
import math
import struct
import zipfile
import zlib
from collections.abc import Iterable
from pathlib import Path
from typing import IO, NamedTuple

import numpy as np

from vaeapp.core.safe_json import one_line
from vaeapp.data.errors import DataError

# What the arrays of a --data .npz that are loaded whole may declare, together,
# before np.load allocates them: generous for real sets, far below what a
# crafted header can ask for. Streamed uint8 images (vaeapp.data.array_stream)
# are never allocated whole and do not count.
MAX_NPZ_DATA_BYTES = 4 << 30

IDX_FILES = {
    "x_train": "train-images-idx3-ubyte",
    "y_train": "train-labels-idx1-ubyte",
    "x_test": "t10k-images-idx3-ubyte",
    "y_test": "t10k-labels-idx1-ubyte",
}
_IDX_IMAGES_MAGIC, _IDX_LABELS_MAGIC = 2051, 2049

NPZ_KEYS = (
    "x_train",
    "y_train",
    "x_test",
    "y_test",
    "class_names",
    "factors_test",
    "factor_names",
)


class NpyHeader(NamedTuple):
    """What an .npy header declares, and the header's own length in bytes."""

    shape: tuple[int, ...]
    dtype: np.dtype
    header_bytes: int


class NpyVersionError(ValueError):
    """An .npy file of a format version other than 1.0 or 2.0 (``version``)."""

    def __init__(self, version: tuple[int, int]) -> None:
        super().__init__(f".npy version {version}")
        self.version = version


def read_npy_header(member: IO[bytes]) -> NpyHeader:
    """Read the header of the .npy file ``member``, positioned at its start, up
    to the data and no further; numpy bounds the header's length
    (``max_header_size``) before parsing it.

    Raises NpyVersionError for a version other than 1.0 or 2.0, and numpy's
    ValueError or EOFError for anything else that is not an .npy header: the
    callers turn them into their own one-line errors.
    """
    version = np.lib.format.read_magic(member)
    if version == (1, 0):
        shape, _, dtype = np.lib.format.read_array_header_1_0(member)
    elif version == (2, 0):
        shape, _, dtype = np.lib.format.read_array_header_2_0(member)
    else:
        raise NpyVersionError(version)
    return NpyHeader(shape, dtype, member.tell())


def read_npz(path: Path, streamed: Iterable[str] = ()) -> dict[str, np.ndarray]:
    """The arrays of the training-data .npz at ``path`` (NPZ_KEYS; x_train
    required) but those named in ``streamed``, after :func:`check_npz`;
    raises DataError."""
    streamed = tuple(streamed)
    check_npz(path, streamed=streamed)  # before np.load allocates the rest
    try:
        with np.load(path, allow_pickle=False) as npz:
            if "x_train" not in npz.files:
                raise DataError(
                    f"{path} lacks x_train; an .npz needs x_train and may hold "
                    + ", ".join(NPZ_KEYS[1:])
                )
            return {k: npz[k] for k in NPZ_KEYS if k in npz.files and k not in streamed}
    except DataError:
        raise
    except MemoryError:
        raise DataError(f"not enough memory to load {path}") from None
    except (OSError, ValueError, EOFError, zipfile.BadZipFile, zlib.error) as error:
        # BadZipFile (a CRC mismatch) and zlib.error are no OSError: corrupt data
        raise _npz_error(path, one_line(error)) from None


def check_npz(
    path: Path, budget: int | None = None, streamed: Iterable[str] = ()
) -> None:
    """Refuse the .npz at ``path`` unless every member is a plain .npy array
    whose header declares exactly the bytes the member stores, and all of them
    together at most ``budget`` bytes (default :data:`MAX_NPZ_DATA_BYTES`),
    the arrays named in ``streamed`` (read a batch at a time, never loaded
    whole) left out of that sum.

    Reads only the zip's directory and each member's .npy header, so that a
    header declaring e.g. shape ``(10, 100000, 100000)`` over 16 bytes is
    refused before anything is allocated. Raises DataError (one line).
    """
    budget = MAX_NPZ_DATA_BYTES if budget is None else budget
    skipped = {f"{key}.npy" for key in streamed}
    try:
        with zipfile.ZipFile(path) as archive:
            total = 0
            for info in archive.infolist():
                size = _npy_member_bytes(archive, info, path)
                total += 0 if info.filename in skipped else size
                if total > budget:
                    raise _npz_error(
                        path,
                        f"its arrays take at least {total:,} bytes; at most "
                        f"{budget:,} bytes are allowed",
                    )
    except DataError:
        raise
    except zipfile.BadZipFile:
        raise _npz_error(path, "it is not a zip of .npy arrays") from None
    # OSError, EOFError: unreadable; NotImplementedError: a compression zipfile
    # lacks; RuntimeError: encrypted; zlib.error: corrupt deflated data.
    except (
        OSError,
        EOFError,
        ValueError,
        NotImplementedError,
        RuntimeError,
        zlib.error,
    ) as error:
        raise _npz_error(path, one_line(error)) from None


def _npz_error(path: Path, reason: str) -> DataError:
    """The one-line refusal of the .npz at ``path``, saying why."""
    return DataError(f"cannot read {path} as an .npz file: {reason}")


def _npy_member_bytes(
    archive: zipfile.ZipFile, info: zipfile.ZipInfo, path: Path
) -> int:
    """The bytes the .npy member ``info`` declares, checked against what it
    stores; raises DataError naming the member."""
    name = one_line(info.filename, 80)
    if info.flag_bits & 0x1:
        raise _npz_error(path, f"{name} is encrypted; only plain members allowed")
    shape, dtype, header = _npy_header(archive, info, path)
    if dtype.hasobject:
        # Loading them needs pickle, which is never allowed (allow_pickle=False).
        raise _npz_error(path, f"{name} holds Python objects; only numbers or text")
    if any(side < 0 for side in shape):
        raise _npz_error(path, f"{name} declares the shape {shape}")
    size = math.prod(shape) * dtype.itemsize
    if header + size != info.file_size:
        raise _npz_error(
            path,
            f"{name} declares {shape} {dtype} ({size:,} bytes) but stores "
            f"{info.file_size - header:,} bytes",
        )
    # Zero-size items (dtype V0) count a byte each: later steps convert
    # every element to float32, whatever the stored dtype.
    return math.prod(shape) * max(dtype.itemsize, 1)


def _npy_header(
    archive: zipfile.ZipFile, info: zipfile.ZipInfo, path: Path
) -> NpyHeader:
    """:func:`read_npy_header` of the member ``info``; raises DataError."""
    name = one_line(info.filename, 80)
    try:
        with archive.open(info) as member:
            return read_npy_header(member)
    except NpyVersionError as error:  # a ValueError: caught before numpy's
        raise _npz_error(
            path, f"{name} is .npy version {error.version}; 1.0 or 2.0 allowed"
        ) from None
    except (ValueError, EOFError) as error:  # numpy refuses the magic or header
        reason = f"{name} is not an .npy array: {one_line(error)}"
        raise _npz_error(path, reason) from None


def is_idx_folder(folder: Path) -> bool:
    """Whether ``folder`` holds any of the four IDX files (then it must hold all)."""
    return any(
        (folder / name).is_file()
        for stem in IDX_FILES.values()
        for name in (stem, f"{stem}.gz")
    )


def read_idx_folder(folder: Path) -> dict[str, np.ndarray]:
    """The four IDX files of ``folder`` (``.gz`` or plain) as x_train, y_train,
    x_test and y_test; raises DataError naming a missing one."""
    return {key: read_idx(path) for key, path in idx_paths(folder).items()}


def idx_paths(folder: Path) -> dict[str, Path]:
    """The four IDX files of ``folder`` (``.gz`` before plain) by key
    (x_train, y_train, x_test, y_test); raises DataError naming a missing one."""
    paths = {}
    for key, stem in IDX_FILES.items():
        candidates = [folder / f"{stem}.gz", folder / stem]
        found = next((p for p in candidates if p.is_file()), None)
        if found is None:
            raise DataError(
                f"{folder} lacks {stem}.gz; an IDX folder needs "
                + ", ".join(f"{s}.gz" for s in IDX_FILES.values())
            )
        paths[key] = found
    return paths


def read_idx(path: Path) -> np.ndarray:
    """Read one IDX file (gzip or plain): uint8 images ``(n, 28, 28)`` or labels
    ``(n,)``."""
    opener = gzip.open if path.suffix == ".gz" else open
    try:
        with opener(path, "rb") as handle:
            raw = handle.read()
    except (OSError, EOFError, zlib.error) as error:
        raise DataError(f"cannot read {path}: {error}") from None
    shape, offset = idx_header(raw[:16], path)
    expected = math.prod(shape)
    if len(raw) - offset != expected:
        raise idx_length_error(path, len(raw) - offset, expected)
    return np.frombuffer(raw, dtype=np.uint8, offset=offset).reshape(shape)


def idx_header(start: bytes, path: Path) -> tuple[tuple[int, ...], int]:
    """The shape an IDX file declares in its first bytes ``start`` (up to
    16), and where its data begin; raises DataError."""
    if len(start) < 8:
        raise DataError(f"{path} is too short to be an IDX file")
    magic, count = struct.unpack(">II", start[:8])
    if magic == _IDX_IMAGES_MAGIC:
        if len(start) < 16:
            raise DataError(f"{path} is too short to be an IDX image file")
        rows, cols = struct.unpack(">II", start[8:16])
        return (count, rows, cols), 16
    if magic == _IDX_LABELS_MAGIC:
        return (count,), 8
    raise DataError(f"{path} is not an IDX file of uint8 images or labels")


def idx_length_error(path: Path, stored: int, expected: int) -> DataError:
    """The refusal of an IDX file whose data are not the size its header says."""
    return DataError(f"{path} holds {stored} bytes of data, expected {expected}")
