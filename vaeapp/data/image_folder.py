"""Reading a folder of image files (PNG, JPEG, BMP, GIF, WebP) with Pillow.

Two layouts, the one ``keras.utils.image_dataset_from_directory`` reads and a
plain one:

- **one subfolder per class**: every subfolder (not starting with ``.``) is a
  class, named by the subfolder, in sorted order; its images may sit in
  further subfolders. Files directly in the top folder are then ignored.
- **flat**: the images directly in the folder, without labels.

Files are read in sorted order. A file that is not an image of a supported
format and mode, or cannot be decoded (truncated, corrupt), or has over
:data:`MAX_SOURCE_PIXELS` pixels, is skipped and counted; hidden files (``.``)
are not looked at. Transparent pixels become black, or the background a
:func:`reading` block chooses (which also counts the images that had any);
a GIF gives its first frame; a photo is turned as its EXIF orientation says
(as an uploaded picture is, :func:`vaeapp.data.preprocess.upright`), and its size
is its upright size.

Every image is brought to one size: scaled (Lanczos) so that it covers the
target, keeping its aspect ratio, then centre-cropped (``PIL.ImageOps.fit``).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image, ImageOps

from vaeapp.core.config import BACKGROUNDS, TrainConfig
from vaeapp.data.preprocess import upright

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".gif", ".webp")
# Formats as Pillow identifies them from the bytes, not the file name.
FORMATS = ("PNG", "JPEG", "MPO", "BMP", "DIB", "GIF", "WEBP")
# Modes converted to grey or RGB without loss of meaning; others (16- and
# 32-bit integer, float) are skipped as the wrong mode.
MODES = (
    *("1", "L", "LA", "La", "P", "PA"),
    *("RGB", "RGBA", "RGBa", "RGBX", "CMYK", "YCbCr"),
)
MAX_SOURCE_PIXELS = 40_000_000  # per image: no decompression bombs
MAX_FILES = 100_000
MAX_CLASSES = 100
# The pixel values of each background (TrainConfig.background).
BACKGROUND_VALUES = {"black": (0, 0, 0), "white": (255, 255, 255)}


class FolderError(ValueError):
    """The folder cannot give a data set (one line)."""


@dataclass(frozen=True)
class FolderImages:
    """Images ``(n, height, width, 3)`` uint8 (RGB, or grey repeated when read
    as grey: ``(n, height, width, 1)``), labels ``(n,)`` uint8 or None, and
    ``names`` the images' file names (:func:`shown_name`), in the same order."""

    images: np.ndarray
    labels: np.ndarray | None
    class_names: tuple[str, ...] | None
    skipped: int
    first_problem: str | None  # why the first skipped file was skipped
    names: tuple[str, ...] = ()

    @property
    def note(self) -> str | None:
        """One line about the skipped files, or None when none was."""
        if not self.skipped:
            return None
        files = "1 file" if self.skipped == 1 else f"{self.skipped} files"
        return f"skipped {files} not usable as images (first: {self.first_problem})"


@dataclass
class Reading:
    """How a :func:`reading` block reads folders, and what they held: the
    ``background`` transparent pixels become; the ``images`` read and how
    many of them had a transparent pixel."""

    background: str = TrainConfig.background
    images: int = 0
    transparent: int = 0

    @property
    def note(self) -> str | None:
        """One line about the transparent images, or None when none was."""
        if not self.transparent:
            return None
        return (
            f"{self.transparent:,} of {self.images:,} images have transparent "
            f"pixels: they became {self.background} (background: "
            f"{' or '.join(BACKGROUNDS)})"
        )


# The reading in effect: the loader between the training command and this
# module (vaeapp.data.sources) passes no background through, so a block sets it here.
_READING: ContextVar[Reading | None] = ContextVar("image_folder_reading", default=None)


@contextmanager
def reading(background: str) -> Iterator[Reading]:
    """Within the block, folders are read with transparent pixels laid on
    ``background`` (one of BACKGROUNDS); the Reading it yields counts the
    images read and those with a transparent pixel. Raises ValueError for an
    unknown background."""
    TrainConfig(background=background)  # checks it
    found = Reading(background)
    token = _READING.set(found)
    try:
        yield found
    finally:
        _READING.reset(token)


def _visible(path: Path) -> bool:
    return not path.name.startswith(".")


Files = list[tuple[Path, int | None]]


def list_files(folder: Path) -> tuple[Files, tuple[str, ...] | None]:
    """The candidate files with their class index, and the class names (None
    for a flat folder)."""
    try:
        entries = sorted(p for p in folder.iterdir() if _visible(p))
    except OSError as error:
        raise FolderError(f"cannot list {folder}: {error.strerror}") from None
    classes = [p for p in entries if p.is_dir()]
    if not classes:
        return [(p, None) for p in entries if p.is_file()], None
    if len(classes) > MAX_CLASSES:
        raise FolderError(
            f"{folder} has {len(classes)} class subfolders; at most {MAX_CLASSES}"
        )
    files: Files = []
    for index, sub in enumerate(classes):
        for root, dirs, names in os.walk(sub):
            dirs[:] = sorted(d for d in dirs if not d.startswith("."))
            files += [
                (Path(root) / n, index) for n in sorted(names) if not n.startswith(".")
            ]
            if len(files) > MAX_FILES:
                break
    return files, tuple(p.name for p in classes)


def _probe(path: Path) -> tuple[tuple[int, int] | None, str | None]:
    """``((width, height), None)`` for a usable image, else ``(None, why)``;
    the image is decoded, so that only usable ones decide the common size."""
    if path.suffix.lower() not in IMAGE_SUFFIXES:
        return None, f"{path.name}: not an image file name"
    try:
        with Image.open(path) as image:
            size, mode, kind = image.size, image.mode, image.format
            if kind not in FORMATS:
                return None, f"{path.name}: format {kind} not supported"
            if mode not in MODES:
                return None, f"{path.name}: mode {mode} not supported"
            if size[0] * size[1] > MAX_SOURCE_PIXELS or min(size) < 1:
                return None, f"{path.name}: {size[0]}x{size[1]} pixels"
            image.load()  # decodes it all: truncated or corrupt data raises
            size = upright(image).size  # a sideways photo counts as turned
    except Exception as error:  # noqa: BLE001 - any unreadable file is skipped
        return None, f"{path.name}: {type(error).__name__}"
    return size, None


def _decode(
    path: Path, size: tuple[int, int], grey: bool, background: str
) -> tuple[np.ndarray, bool]:
    """The image at ``path`` fitted to ``size`` (width, height), as uint8, its
    transparent pixels laid on ``background``; and whether it had any."""
    transparent = False
    with Image.open(path) as image:
        image.load()  # raises for truncated or corrupt data
        image = upright(image)
        if "A" in image.getbands() or "transparency" in image.info:
            rgba = image.convert("RGBA")
            alpha = rgba.getchannel("A")
            transparent = alpha.getextrema()[0] < 255
            image = Image.new("RGB", rgba.size, BACKGROUND_VALUES[background])
            image.paste(rgba, mask=alpha)
        image = image.convert("L" if grey else "RGB")
        if image.size != size:
            image = ImageOps.fit(image, size, Image.Resampling.LANCZOS)
        return np.asarray(image, dtype=np.uint8), transparent


MAX_SHOWN_NAME = 255  # characters of a file name kept (store.format's limit)


def shown_name(name: str) -> str:
    """A file name as the model folder records it: printable (other
    characters escaped), without '\\', at most MAX_SHOWN_NAME characters."""
    if not name.isprintable():
        name = name.encode("unicode_escape").decode("ascii")
    return name.replace("\\", "_")[:MAX_SHOWN_NAME] or "_"


def read_folder(
    folder: Path, side: int, grey: bool, default_side: int, side_range: tuple[int, int]
) -> FolderImages:
    """Read every usable image under ``folder``, fitted to ``side`` x ``side``.

    ``side`` 0 keeps the images' own height and width when all share them and
    both lie in ``side_range``, else uses ``default_side``. ``grey`` reads them
    as grey (one channel), else as RGB. Transparent pixels become the
    background of the :func:`reading` block around the call (black outside
    one), which counts what was read. Raises FolderError when no file is a
    usable image.
    """
    seen = _READING.get() or Reading()
    files, class_names = list_files(folder)
    if len(files) > MAX_FILES:
        raise FolderError(f"{folder} holds over {MAX_FILES:,} files; use fewer")
    usable: list[tuple[Path, int | None, tuple[int, int]]] = []
    problems: list[str] = []
    for path, label in files:
        size, problem = _probe(path)
        if size is None:
            problems.append(problem or path.name)
        else:
            usable.append((path, label, size))
    sizes = {size for _, _, size in usable}
    if side:
        target = (side, side)
    elif len(sizes) == 1 and all(
        side_range[0] <= s <= side_range[1] for s in next(iter(sizes))
    ):
        target = next(iter(sizes))
    else:
        target = (default_side, default_side)
    images, labels, names = [], [], []
    for path, label, _ in usable:
        try:
            pixels, transparent = _decode(path, target, grey, seen.background)
        except Exception as error:  # noqa: BLE001 - truncated, corrupt: skipped
            problems.append(f"{path.name}: {type(error).__name__}")
            continue
        images.append(pixels)
        labels.append(label)
        names.append(shown_name(path.name))
        seen.images += 1
        seen.transparent += transparent
    if not images:
        what = f"{len(files)} files" if files else "no files"
        raise FolderError(
            f"{folder} has no usable image ({what}; PNG, JPEG, BMP, GIF or WebP "
            "wanted, in the folder or one subfolder per class)"
        )
    stacked = np.stack(images)
    if stacked.ndim == 3:
        stacked = stacked[..., np.newaxis]
    return FolderImages(
        images=stacked,
        labels=None if class_names is None else np.array(labels, np.uint8),
        class_names=class_names,
        skipped=len(problems),
        first_problem=problems[0] if problems else None,
        names=tuple(names),
    )
