"""The official test images, shipped once per data set instead of per model.

A model folder's ``latents.npz`` is aligned with the test set it was encoded
from. When that is the official MNIST or Fashion-MNIST test set (same labels in
the same order, same pixels), the images are not copied into the folder: they
are read from ``vaeapp/testsets/<dataset>.npz`` here. A model trained on other
data keeps its own images in its folder.
"""

from __future__ import annotations

import functools
from pathlib import Path

import numpy as np

from vaeapp.core.config import N_PIXELS

TESTSETS_DIR = Path(__file__).resolve().parents[1] / "testsets"


@functools.lru_cache(maxsize=4)
def _shipped(dataset: str) -> tuple[np.ndarray, np.ndarray] | None:
    path = TESTSETS_DIR / f"{dataset}.npz"
    if not path.is_file():
        return None
    try:
        with np.load(path, allow_pickle=False) as npz:
            images, labels = npz["images"], npz["labels"]
    except (OSError, ValueError, KeyError, EOFError) as error:
        raise ValueError(f"shipped test set {path.name}: {error}") from None
    if images.dtype != np.uint8 or images.shape != (labels.shape[0], N_PIXELS):
        raise ValueError(f"shipped test set {path.name} has shape {images.shape}")
    images.flags.writeable = False  # shared across sessions: never mutated
    return images, labels


def shipped_images(dataset: str, labels: np.ndarray) -> np.ndarray | None:
    """The shipped test images ``(n, 784)`` uint8 for ``dataset`` if ``labels``
    (``(n,)``) are exactly its test labels, else None."""
    found = _shipped(dataset)
    if found is None:
        return None
    images, shipped_labels = found
    if shipped_labels.shape != labels.shape or not np.array_equal(
        shipped_labels, labels
    ):
        return None
    return images


def is_shipped(dataset: str, images: np.ndarray, labels: np.ndarray) -> bool:
    """Whether ``images`` (uint8 ``(n, 784)``) and ``labels`` are the shipped set."""
    shipped = shipped_images(dataset, labels)
    return shipped is not None and np.array_equal(shipped, images)
