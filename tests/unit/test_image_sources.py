"""Own image sets: folders of images, general .npz files, the shapes set, the
held-out test split, sizes and colours; and one-epoch runs of the real CLI."""

from __future__ import annotations

import subprocess
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from support import run_train

from vaeapp.data.errors import DataError
from vaeapp.data.shapes import FACTORS, SHAPE_NAMES, load_shapes
from vaeapp.data.sources import (
    configured_datasets,
    holdout_split,
    load_dataset,
    name_from_path,
)
from vaeapp.jobs.progress import read_progress
from vaeapp.store.format import FACTORS_KEY, IMAGES_KEY, LATENTS_FILE
from vaeapp.store.reading import load_model

REPO_ROOT = Path(__file__).resolve().parents[2]


def colour_image(rng: np.random.Generator, height: int, width: int) -> Image.Image:
    return Image.fromarray(rng.integers(0, 256, (height, width, 3), dtype=np.uint8))


def grey_image(rng: np.random.Generator, height: int, width: int) -> Image.Image:
    return Image.fromarray(rng.integers(0, 256, (height, width), dtype=np.uint8))


def add_bad_files(folder: Path) -> int:
    """A text file named .png, a truncated PNG, a truncated JPEG, a 16-bit PNG
    and a README: five files to skip."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "fake.png").write_text("not an image")
    rng = np.random.default_rng(9)
    colour_image(rng, 20, 20).save(folder / "whole.png")
    data = (folder / "whole.png").read_bytes()
    (folder / "whole.png").unlink()
    (folder / "cut.png").write_bytes(data[: len(data) // 2])
    colour_image(rng, 20, 20).save(folder / "whole.jpg")
    data = (folder / "whole.jpg").read_bytes()
    (folder / "whole.jpg").unlink()
    (folder / "cut.jpg").write_bytes(data[: len(data) // 2])
    deep = np.full((20, 20), 40_000, np.uint16)
    Image.fromarray(deep).save(folder / "sixteen.png")  # mode I;16
    (folder / "README.txt").write_text("notes")
    return 5


def class_folder(root: Path, colour: bool, sizes: list[tuple[int, int]]) -> Path:
    """Two classes (``ants``, ``bees``) of 30 images each, PNG and JPEG, of
    the given (height, width) sizes in turn, plus bad files among the bees."""
    rng = np.random.default_rng(0)
    make = colour_image if colour else grey_image
    for name in ("ants", "bees"):
        (root / name).mkdir(parents=True)
        for i in range(30):
            picture = make(rng, *sizes[i % len(sizes)])
            picture.save(root / name / f"{i:02d}.{'png' if i % 2 else 'jpg'}")
    add_bad_files(root / "bees")
    return root


def indexed_flat_folder(root: Path, count: int) -> Path:
    """``count`` distinct grey 16x16 PNGs: pixel (0, 0) and (0, 1) spell the index."""
    root.mkdir(parents=True)
    for i in range(count):
        pixels = np.zeros((16, 16), np.uint8)
        pixels[0, 0], pixels[0, 1] = i // 256, i % 256
        Image.fromarray(pixels).save(root / f"img{i:04d}.png")
    return root


# Folders of images.


def test_class_folder_gives_labels_named_by_the_subfolders(tmp_path):
    """Subfolders are classes in sorted order; bad files are skipped and counted."""
    folder = class_folder(tmp_path / "bugs", colour=True, sizes=[(24, 24)])
    data = load_dataset("bugs", folder)
    assert data.class_names == ("ants", "bees")
    assert data.image_shape == (24, 24, 3)
    assert data.x_train.shape[0] + data.x_test.shape[0] == 60
    assert data.x_train.dtype == np.float32 and data.x_train.shape[1] == 24 * 24 * 3
    labels = np.concatenate([data.y_train, data.y_test])
    assert np.bincount(labels).tolist() == [30, 30]
    skipped = [n for n in data.notes if n.startswith("skipped")]
    assert len(skipped) == 1 and skipped[0].startswith("skipped 5 files")


def test_flat_folder_has_no_labels(tmp_path):
    """A folder of images without subfolders loads without class names, labels 0."""
    folder = indexed_flat_folder(tmp_path / "flat", 40)
    data = load_dataset("flat", folder)
    assert data.class_names is None
    assert not data.y_train.any() and not data.y_test.any()
    assert data.image_shape == (16, 16, 1)


def test_held_out_images_never_overlap_the_training_images(tmp_path):
    """The held-out test images are 10 % of the set, none of them a training image."""
    folder = indexed_flat_folder(tmp_path / "flat", 200)
    data = load_dataset("flat", folder)
    index = lambda x: set(  # noqa: E731 - the two pixels that spell each index
        np.rint(x[:, 0] * 255).astype(int) * 256 + np.rint(x[:, 1] * 255).astype(int)
    )
    train, test = index(data.x_train), index(data.x_test)
    assert len(test) == data.x_test.shape[0] == 20
    assert len(train) == data.x_train.shape[0] == 180
    assert train.isdisjoint(test) and train | test == set(range(200))
    again = load_dataset("flat", folder)
    np.testing.assert_array_equal(again.x_test, data.x_test)


def test_holdout_split_is_disjoint_complete_and_fixed():
    """holdout_split gives sorted disjoint rows covering all, the same every call."""
    train, test = holdout_split(1000, 0.25)
    assert test.size == 250 and train.size == 750
    assert np.intersect1d(train, test).size == 0
    np.testing.assert_array_equal(np.sort(np.concatenate([train, test])), range(1000))
    np.testing.assert_array_equal(holdout_split(1000, 0.25)[1], test)
    assert holdout_split(3_000_000, 0.5)[1].size == 1_000_000  # MAX_HELD_OUT_IMAGES


def test_images_of_differing_sizes_are_brought_to_32_square(tmp_path):
    """Without --image-size, images of two sizes become 32x32."""
    folder = class_folder(tmp_path / "mixed", colour=True, sizes=[(20, 24), (40, 30)])
    assert load_dataset("mixed", folder).image_shape == (32, 32, 3)


def test_image_size_covers_and_centre_crops(tmp_path):
    """A wide image is scaled to the size's height and its middle kept."""
    folder = tmp_path / "wide"
    folder.mkdir()
    pixels = np.zeros((20, 80, 3), np.uint8)
    pixels[:, :20, 0] = 255  # red left quarter
    pixels[:, 20:60, 1] = 255  # green middle half
    pixels[:, 60:, 2] = 255  # blue right quarter
    for i in range(4):
        Image.fromarray(pixels).save(folder / f"{i}.png")
    data = load_dataset("wide", folder, image_size=12, color="rgb")
    assert data.image_shape == (12, 12, 3)
    image = data.x_train[0].reshape(12, 12, 3)
    assert image[..., 1].min() > 0.95
    assert image[..., 0].max() < 0.05 and image[..., 2].max() < 0.05


@pytest.mark.parametrize(
    ("colour", "option", "channels"),
    [
        (False, "auto", 1),
        (True, "auto", 3),
        (False, "rgb", 3),
        (True, "grey", 1),
    ],
)
def test_colour_is_decided_from_the_data_or_the_option(
    tmp_path, colour, option, channels
):
    """auto keeps grey images grey and colour ones RGB; the option overrides it."""
    folder = class_folder(tmp_path / "set", colour=colour, sizes=[(16, 16)])
    data = load_dataset("set", folder, color=option)
    assert data.image_shape == (16, 16, channels)


def test_folder_without_usable_images_is_refused(tmp_path):
    """A folder whose files are all bad raises DataError in one line."""
    add_bad_files(tmp_path / "junk")
    with pytest.raises(DataError, match="has no usable image") as info:
        load_dataset("junk", tmp_path / "junk")
    assert "\n" not in str(info.value)


# .npz files and the shapes set.


def test_colour_npz_without_test_split_holds_out_and_names_classes(tmp_path):
    """An (n, h, w, 3) float .npz without x_test is split; class_names are kept."""
    rng = np.random.default_rng(1)
    path = tmp_path / "petals.npz"
    np.savez(
        path,
        x_train=rng.random((50, 12, 20, 3)),
        y_train=rng.integers(0, 3, 50),
        class_names=np.array(["iris", "rose", "tulip"]),
    )
    data = load_dataset("petals", path)
    assert data.image_shape == (12, 20, 3)
    assert (data.x_train.shape[0], data.x_test.shape[0]) == (45, 5)
    assert data.class_names == ("iris", "rose", "tulip")


def test_shapes_arrays_saved_as_npz_keep_their_factors(tmp_path):
    """ShapesData.arrays() written to an .npz loads with its test factors."""
    shapes = load_shapes(seed=3, n_train=40, n_test=10, side=16)
    path = tmp_path / "s.npz"
    np.savez(path, **shapes.arrays())
    data = load_dataset("s", path)
    assert data.factor_names == FACTORS and data.class_names == SHAPE_NAMES
    np.testing.assert_array_equal(data.factors_test, shapes.factors_test)


def test_shapes_dataset_is_generated():
    """--dataset shapes gives 60,000 + 10,000 RGB 32x32 images with test factors."""
    data = load_dataset("shapes")
    assert data.image_shape == (32, 32, 3)
    assert (data.x_train.shape, data.x_test.shape) == ((60_000, 3072), (10_000, 3072))
    assert data.factors_test.shape == (10_000, 5) and data.factor_names == FACTORS
    np.testing.assert_array_equal(data.factors_test[:, 0], data.y_test)


def test_shapes_takes_no_data_path(tmp_path):
    """shapes is generated: a --data path for it is refused."""
    with pytest.raises(DataError, match="shapes is generated"):
        load_dataset("shapes", tmp_path)


@pytest.mark.parametrize(
    ("path", "name"),
    [
        ("/srv/data/fashion-mnist", "fashion_mnist"),
        ("photos/My Holiday 2024/", "my_holiday_2024"),
        ("sets/petals.npz", "petals"),
        ("///", "images"),
    ],
)
def test_name_from_path(path, name):
    """A data set's default name is its path's last part, made safe."""
    assert name_from_path(path) == name


def test_own_dataset_is_read_from_its_environment_variable(tmp_path, monkeypatch):
    """VAEAPP_<NAME>_DATA points at an own set; the server lists it as available."""
    folder = indexed_flat_folder(tmp_path / "x", 10)
    monkeypatch.setenv("VAEAPP_FLOWERS_DATA", str(folder))
    # data_source names the set and its folder, never the machine's path.
    source = load_dataset("flowers").source
    assert (
        source.startswith("flowers: the image folder 'x'")
        and str(tmp_path) not in source
    )
    assert configured_datasets({"VAEAPP_FLOWERS_DATA": "x", "VAEAPP_HOME": "y"}) == (
        "shapes",
        "flowers",
    )


def test_own_dataset_without_data_names_its_variable(monkeypatch):
    """An own data set with no path says to pass --data or set its variable."""
    monkeypatch.delenv("VAEAPP_FLOWERS_DATA", raising=False)
    with pytest.raises(DataError, match="set VAEAPP_FLOWERS_DATA=PATH"):
        load_dataset("flowers")


# One short epoch through the real command.


def run_cli(*args: str) -> subprocess.CompletedProcess:
    """The command without a developer's models folder."""
    return run_train(*args, unset=("VAEAPP_HOME",))


QUICK = "--epochs 1 --train-size 100 --batch-size 20 --quiet --no-jit --name m"


def train_once(data: Path | None, out: Path, *extra: str):
    """Train one epoch on ``data`` and load the published folder."""
    where = ["--data", str(data)] if data is not None else []
    proc = run_cli(*where, "--out", str(out), *QUICK.split(), *extra)
    assert proc.returncode == 0, proc.stderr[-2000:]
    return load_model(out / "m")


def test_cli_trains_a_conv_model_on_a_colour_class_folder(tmp_path):
    """Colour PNGs and JPEGs in class folders, with bad files, train a conv model."""
    folder = class_folder(tmp_path / "bugs", colour=True, sizes=[(24, 24), (36, 30)])
    model = train_once(
        folder, tmp_path / "out", "--preset", "conv", "--image-size", "16"
    )
    assert model.record.dataset == "bugs"
    assert model.image_shape == (16, 16, 3)
    assert model.class_names == ("ants", "bees") and model.factors is None
    assert model.test_images.shape == (6, 16 * 16 * 3)
    assert model.test_images.dtype == np.uint8
    with np.load(tmp_path / "out" / "m" / LATENTS_FILE) as npz:
        assert npz[IMAGES_KEY].shape == (6, 16, 16, 3)
    assert model.vae.decode(model.latent_mean[:2]).shape == (2, 16 * 16 * 3)
    assert model.record.train_images == 49  # 5 of the 54 validate
    assert all(g.shape == (160, 160, 3) for g in model.snapshots.values())


def test_cli_trains_a_dense_model_on_a_grey_flat_folder(tmp_path):
    """A flat folder of grey PNGs trains with no class names and grey images."""
    folder = indexed_flat_folder(tmp_path / "plain", 120)
    model = train_once(folder, tmp_path / "out", "--hidden", "16")
    assert model.image_shape == (16, 16, 1) and model.class_names is None
    assert model.test_images.shape == (12, 256) and not model.labels.any()
    assert all(g.shape == (160, 160) for g in model.snapshots.values())


def test_cli_trains_on_a_grey_npz_with_its_own_test_split(tmp_path):
    """An (n, h, w) uint8 .npz with x_test trains at its own size."""
    rng = np.random.default_rng(2)
    path = tmp_path / "digits20.npz"
    np.savez(
        path,
        x_train=rng.integers(0, 256, (150, 20, 20), dtype=np.uint8),
        y_train=rng.integers(0, 4, 150),
        x_test=rng.integers(0, 256, (30, 20, 20), dtype=np.uint8),
        y_test=rng.integers(0, 4, 30),
    )
    model = train_once(path, tmp_path / "out", "--hidden", "16")
    assert model.record.dataset == "digits20"
    assert model.image_shape == (20, 20, 1)
    assert model.class_names == ("0", "1", "2", "3")
    assert model.latent_mean.shape == (30, 2)


def test_cli_trains_on_shapes_and_stores_the_factors(tmp_path):
    """--dataset shapes stores 10,000 test images and their factors."""
    model = train_once(None, tmp_path / "out", "--dataset", "shapes", "--hidden", "16")
    assert model.image_shape == (32, 32, 3)
    assert model.class_names == SHAPE_NAMES and model.factor_names == FACTORS
    assert model.factors.shape == (10_000, 5) and model.factors.dtype == np.float32
    assert model.test_images.shape == (10_000, 3072)
    with np.load(tmp_path / "out" / "m" / LATENTS_FILE) as npz:
        assert FACTORS_KEY in npz.files


@pytest.mark.parametrize(
    ("make", "extra", "message"),
    [
        (add_bad_files, [], "has no usable image"),
        (
            lambda p: indexed_flat_folder(p, 10),
            ["--preset", "conv", "--image-size", "18"],
            "a conv model with 2 stride-2 stages needs image sides divisible by 4, "
            "got 18x18",
        ),
    ],
)
def test_cli_refuses_unusable_data_in_one_line(tmp_path, make, extra, message):
    """No usable image, or sizes a conv model cannot take: one error line, exit 1."""
    make(tmp_path / "data")
    proc = run_cli(
        "--data", str(tmp_path / "data"), "--out", str(tmp_path / "out"),
        *QUICK.split(), *extra,
    )  # fmt: skip
    assert proc.returncode == 1
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and message in lines[0], proc.stderr[-1000:]


def test_a_quiet_run_hands_its_data_notes_to_the_page(tmp_path):
    """With --quiet (as the app runs it) the skipped-files line is not printed,
    but the finished progress file carries it for the page's message."""
    folder = class_folder(tmp_path / "bugs", colour=False, sizes=[(12, 12)])
    progress_file = tmp_path / "progress.json"
    proc = run_cli(
        "--data",
        str(folder),
        "--out",
        str(tmp_path / "out"),
        "--progress-file",
        str(progress_file),
        "--hidden",
        "16",
        *QUICK.split(),
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    progress = read_progress(progress_file)
    assert progress is not None and progress.state == "done"
    assert "skipped 5 files" in progress.message
