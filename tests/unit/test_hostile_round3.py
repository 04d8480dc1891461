"""Hostile inputs, third round (issue 22): EXIF orientation in image folders, a
crafted .npz header for training, and model zips written by ``writestr``."""

from __future__ import annotations

import io
import stat
import zipfile
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageOps
from support import run_train
from unit_helpers import synthetic_arrays, write_npz

from vaeapp.data import array_files
from vaeapp.data.errors import DataError
from vaeapp.data.image_folder import read_folder
from vaeapp.data.sources import load_dataset
from vaeapp.store.format import MODEL_FILES
from vaeapp.store.upload import UploadError, import_model_zip

REPO_ROOT = Path(__file__).resolve().parents[2]
TUTORIAL = REPO_ROOT / "vaeapp" / "pretrained" / "mnist-tutorial"
ORIENTATION = 0x0112  # the EXIF tag
HUGE_SHAPE = (10, 100_000, 100_000)  # 93.1 GiB of uint8, declared in 16 bytes


# --- 1. EXIF orientation in image folders -------------------------------------


def _landscape() -> Image.Image:
    """A 16x10 (width x height) RGB picture with no symmetry to hide a turn."""
    pixels = np.arange(10 * 16 * 3, dtype=np.uint16).reshape(10, 16, 3) % 251
    return Image.fromarray(pixels.astype(np.uint8), "RGB")


def _save_turned(path: Path, kind: str) -> None:
    """Save the landscape picture with EXIF orientation 6 (turn to display)."""
    exif = Image.Exif()
    exif[ORIENTATION] = 6
    _landscape().save(
        path, kind, exif=exif, **({"quality": 95} if kind == "JPEG" else {})
    )


def _read(folder: Path, side: int = 0) -> np.ndarray:
    found = read_folder(folder, side, grey=False, default_side=32, side_range=(8, 64))
    assert found.skipped == 0
    return found.images


@pytest.mark.parametrize(("kind", "suffix"), [("JPEG", ".jpg"), ("PNG", ".png")])
def test_folder_images_are_turned_upright_by_their_exif_orientation(
    tmp_path: Path, kind: str, suffix: str
) -> None:
    """An image with EXIF orientation 6 is read turned, not as stored."""
    path = tmp_path / f"photo{suffix}"
    _save_turned(path, kind)
    with Image.open(path) as image:
        raw = np.asarray(image.convert("RGB"))
        upright = np.asarray(ImageOps.exif_transpose(image).convert("RGB"))
    assert raw.shape == (10, 16, 3) and upright.shape == (16, 10, 3)
    images = _read(tmp_path)
    assert images.shape == (1, 16, 10, 3)
    np.testing.assert_array_equal(images[0], upright)


def test_folder_common_size_is_the_upright_size(tmp_path: Path) -> None:
    """A turned landscape photo and a plain portrait one share their upright
    size, so the folder keeps it instead of falling back to the default side."""
    _save_turned(tmp_path / "a.png", "PNG")
    portrait = np.asarray(ImageOps.exif_transpose(Image.open(tmp_path / "a.png")))
    Image.fromarray(portrait).save(tmp_path / "b.png")
    images = _read(tmp_path)
    assert images.shape == (2, 16, 10, 3)
    np.testing.assert_array_equal(images[0], images[1])


def test_folder_images_fitted_to_a_side_are_fitted_upright(tmp_path: Path) -> None:
    """With a fixed side, the turned image is fitted as its upright picture."""
    _save_turned(tmp_path / "a.png", "PNG")
    with Image.open(tmp_path / "a.png") as image:
        upright = ImageOps.exif_transpose(image).convert("RGB")
    expected = ImageOps.fit(upright, (8, 8), Image.Resampling.LANCZOS)
    np.testing.assert_array_equal(_read(tmp_path, side=8)[0], np.asarray(expected))


# --- 2. A crafted .npz header -------------------------------------------------


def _npy_bytes(shape: tuple[int, ...], dtype: str, body: bytes) -> bytes:
    """A hand-made .npy: a header declaring ``shape`` and ``dtype``, then ``body``."""
    buffer = io.BytesIO()
    header = {"descr": np.dtype(dtype).str, "fortran_order": False, "shape": shape}
    np.lib.format.write_array_header_1_0(buffer, header)
    return buffer.getvalue() + body


def _crafted_npz(path: Path, shape=HUGE_SHAPE, dtype="|u1", body=b"\0" * 16) -> Path:
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("x_train.npy", _npy_bytes(shape, dtype, body))
    return path


def _refused(path: Path, match: str) -> str:
    with pytest.raises(DataError, match=match) as caught:
        load_dataset("crafted", path)
    message = str(caught.value)
    assert message and "\n" not in message
    return message


def test_npz_declaring_more_than_it_stores_is_refused_before_allocating(
    tmp_path: Path,
) -> None:
    """A header declaring 93 GiB over 16 bytes of data is refused in one line."""
    message = _refused(_crafted_npz(tmp_path / "crafted.npz"), "x_train.npy")
    assert "(10, 100000, 100000)" in message and "16" in message


def test_npz_storing_more_than_it_declares_is_refused(tmp_path: Path) -> None:
    """Bytes beyond what the header declares are refused, not ignored."""
    path = _crafted_npz(tmp_path / "long.npz", shape=(2, 8, 8), body=b"\0" * 200)
    _refused(path, "x_train.npy declares")


def test_npz_with_an_object_array_is_refused(tmp_path: Path) -> None:
    """An object dtype member (pickled Python objects) is refused by name."""
    path = _crafted_npz(tmp_path / "objects.npz", shape=(2,), dtype="|O", body=b"")
    _refused(path, "Python objects")


def test_npz_with_a_member_that_is_no_npy_array_is_refused(tmp_path: Path) -> None:
    """A member whose bytes are not an .npy array is refused in one line."""
    with zipfile.ZipFile(tmp_path / "junk.npz", "w") as archive:
        archive.writestr("x_train.npy", b"not an array at all")
    _refused(tmp_path / "junk.npz", "x_train.npy")


def test_npz_with_an_unknown_npy_version_is_refused(tmp_path: Path) -> None:
    """A member whose .npy header says format version 3.0 is refused, naming
    the member and the version."""
    member = bytearray(_npy_bytes((2, 8, 8), "|u1", b"\0" * 128))
    member[6] = 3  # the major version, right after the 6-byte magic string
    with zipfile.ZipFile(tmp_path / "v3.npz", "w") as archive:
        archive.writestr("x_train.npy", bytes(member))
    _refused(tmp_path / "v3.npz", r"x_train.npy is .npy version \(3, 0\)")


def test_plain_npy_file_given_as_data_is_refused(tmp_path: Path) -> None:
    """A .npy (not a zip) given as the data file is refused in one line."""
    np.save(tmp_path / "x.npy", np.zeros((4, 8, 8), np.uint8))
    _refused(tmp_path / "x.npy", "not a zip of .npy arrays")


def test_npz_over_the_memory_budget_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Arrays loaded whole (here float images: only uint8 ones are streamed)
    together over the budget are refused, naming the budget."""
    arrays = synthetic_arrays(n_train=30, n_test=10)
    arrays["x_train"] = arrays["x_train"].astype(np.float32)
    path = write_npz(tmp_path / "data.npz", arrays)
    load_dataset("ok", path)  # within the real budget
    monkeypatch.setattr(array_files, "MAX_NPZ_DATA_BYTES", 10_000)
    _refused(path, "at most 10,000 bytes")


def test_train_command_reports_a_crafted_npz_in_one_line(tmp_path: Path) -> None:
    """``python -m vaeapp.train --data crafted.npz`` exits 1 with one error line."""
    crafted = _crafted_npz(tmp_path / "crafted.npz")
    out = tmp_path / "out"
    proc = run_train(
        *["--data", str(crafted), "--out", str(out), "--epochs", "1"],
        *["--hidden", "16", "--name", "m"],
        timeout=300,
    )
    assert proc.returncode == 1
    assert "Traceback" not in proc.stderr and "allocate" not in proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, proc.stderr
    assert lines[0].startswith("error: ") and "x_train.npy" in lines[0]
    assert not out.exists()


# --- 3. Model zips written with ZipFile.writestr ------------------------------


def _tutorial_zip(kinds: dict[str, int] | None = None) -> bytes:
    """The shipped tutorial model zipped with ``writestr(name, data)``; a member
    named in ``kinds`` gets that file type (``stat.S_IF*``) instead."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name in MODEL_FILES:
            if not (TUTORIAL / name).is_file():
                continue
            data = (TUTORIAL / name).read_bytes()
            if kinds and name in kinds:
                info = zipfile.ZipInfo(name)
                info.external_attr = (kinds[name] | 0o777) << 16
                archive.writestr(info, data)
            else:
                archive.writestr(name, data)
    return buffer.getvalue()


def test_model_zip_written_with_writestr_is_imported(tmp_path: Path) -> None:
    """Members without file-type bits are regular files: the zip is accepted."""
    data = _tutorial_zip()
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        modes = [(i.external_attr >> 16) & 0o170000 for i in archive.infolist()]
    assert modes and not any(modes)  # what writestr(name, data) writes
    path = import_model_zip(data, tmp_path / "models", "writestr")
    for name in MODEL_FILES:
        if (TUTORIAL / name).is_file():
            assert (path / name).read_bytes() == (TUTORIAL / name).read_bytes()


@pytest.mark.parametrize(
    "kind",
    [stat.S_IFLNK, stat.S_IFDIR, stat.S_IFIFO, stat.S_IFSOCK, stat.S_IFCHR],
    ids=["link", "folder", "fifo", "socket", "device"],
)
def test_model_zip_with_a_special_member_is_refused(tmp_path: Path, kind: int) -> None:
    """A member marked as a link, folder, FIFO, socket or device is refused."""
    parent = tmp_path / "models"
    with pytest.raises(UploadError, match="config.json .*not a regular file"):
        import_model_zip(_tutorial_zip({"config.json": kind}), parent, "special")
    assert not (parent / "special").exists()
