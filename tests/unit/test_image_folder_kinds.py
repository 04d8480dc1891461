"""Own image sets, beyond tests/unit/test_image_sources.py: the held-out split of
labelled folders and .npz files keeps each label with its image and never
overlaps the training images; files of other formats and kinds in a folder."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
from PIL import Image

from vaeapp.data.sources import load_dataset

CLASSES = ("ants", "bees", "wasps")


def _indexed(index: int, label: int) -> np.ndarray:
    """A 12x12 grey image whose first three pixels spell its index and label."""
    pixels = np.full((12, 12), 128, np.uint8)
    pixels[0, :3] = index // 256, index % 256, label
    return pixels


def _index_and_label(rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Flat images in [0, 1] ``(n, 144)`` -> their spelled indices and labels."""
    values = np.rint(rows[:, :3] * 255).astype(int)
    return values[:, 0] * 256 + values[:, 1], values[:, 2]


def test_a_class_folders_held_out_images_keep_their_labels_and_are_never_trained_on(
    tmp_path: Path,
) -> None:
    """Class subfolders without a test split: the held-out tenth and the
    training images are disjoint and together every image, each with the
    label of the folder it came from."""
    count = 0
    for label, name in enumerate(CLASSES):
        (tmp_path / name).mkdir()
        for _ in range(20 + 10 * label):  # classes of unequal sizes
            Image.fromarray(_indexed(count, label)).save(
                tmp_path / name / f"{count}.png"
            )
            count += 1
    data = load_dataset("bugs", tmp_path)
    assert data.class_names == CLASSES
    train_index, train_spelled = _index_and_label(data.x_train)
    test_index, test_spelled = _index_and_label(data.x_test)
    np.testing.assert_array_equal(train_spelled, data.y_train)
    np.testing.assert_array_equal(test_spelled, data.y_test)
    assert test_index.size == round(0.1 * count)
    assert set(train_index).isdisjoint(test_index)
    assert sorted([*train_index, *test_index]) == list(range(count))


def test_an_npz_without_test_split_holds_out_images_with_their_labels(
    tmp_path: Path,
) -> None:
    """A labelled .npz without x_test: the held-out rows keep their labels and
    class names, and none is a training row."""
    labels = np.arange(90) % 3
    images = np.stack([_indexed(i, int(label)) for i, label in enumerate(labels)])
    path = tmp_path / "bugs.npz"
    np.savez(path, x_train=images, y_train=labels, class_names=np.array(CLASSES))
    data = load_dataset("bugs", path, test_share=0.2)
    train_index, train_spelled = _index_and_label(data.x_train)
    test_index, test_spelled = _index_and_label(data.x_test)
    assert (train_index.size, test_index.size) == (72, 18)
    np.testing.assert_array_equal(test_spelled, data.y_test)
    np.testing.assert_array_equal(train_spelled, data.y_train)
    assert set(train_index).isdisjoint(test_index)
    assert data.class_names == CLASSES


def _save(pixels: np.ndarray, path: Path, fmt: str, **options: object) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(pixels).save(path, format=fmt, **options)


def test_other_formats_and_kinds_of_file_in_a_folder(tmp_path: Path) -> None:
    """GIF, WebP, BMP and a JPEG named .png are read (formats go by their
    bytes), a nested subfolder belongs to its class, transparent pixels become
    black; an empty file is skipped and counted, hidden files are not looked at."""
    red = np.zeros((16, 16, 3), np.uint8)
    red[..., 0] = 200
    _save(red, tmp_path / "a" / "one.gif", "GIF")
    _save(red, tmp_path / "a" / "two.webp", "WEBP", lossless=True)
    _save(red, tmp_path / "a" / "deeper" / "three.bmp", "BMP")
    jpeg = io.BytesIO()
    Image.fromarray(red).save(jpeg, format="JPEG", quality=95)
    (tmp_path / "b").mkdir()
    (tmp_path / "b" / "really-a-jpeg.png").write_bytes(jpeg.getvalue())
    half_clear = np.zeros((16, 16, 4), np.uint8)
    half_clear[..., 0], half_clear[:, :8, 3] = 200, 255  # right half transparent
    _save(half_clear, tmp_path / "b" / "clear.png", "PNG")
    (tmp_path / "b" / "empty.png").write_bytes(b"")
    (tmp_path / "b" / ".hidden.png").write_text("never read")
    (tmp_path / ".cache").mkdir()  # a hidden folder is no class
    data = load_dataset("mixed", tmp_path, test_share=0.2, color="rgb")
    assert data.class_names == ("a", "b")
    assert data.image_shape == (16, 16, 3)
    images = np.concatenate([data.x_train, data.x_test]).reshape(-1, 16, 16, 3)
    labels = np.concatenate([data.y_train, data.y_test])
    assert np.bincount(labels).tolist() == [3, 2]
    assert [note for note in data.notes if note.startswith("skipped")] == [
        "skipped 1 file not usable as images (first: empty.png: UnidentifiedImageError)"
    ]
    left, right = images[..., :8, 0], images[..., 8:, 0]
    np.testing.assert_allclose(left, 200 / 255, atol=4 / 255)  # JPEG's error
    black = right.max(axis=(1, 2)) < 0.01
    assert black.sum() == 1  # the transparent half of clear.png, nothing else
    np.testing.assert_allclose(right[~black], 200 / 255, atol=4 / 255)
