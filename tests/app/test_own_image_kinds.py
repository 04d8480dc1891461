"""Own image sets of every kind — folders of grey or colour PNG and JPEG images,
flat or in class subfolders, with bad files, and .npz sets of uint8 or float
images, with or without their own test split — each trained one short epoch
through the real CLI and opened in the app."""

from __future__ import annotations

import base64
import io
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest
from app_helpers import component_data, explorer_data, new_app, send_event, sliders_data
from PIL import Image

from vaeapp.data.sources import Dataset, load_dataset
from vaeapp.store.reading import load_model
from vaeapp.store.records import LoadedModel
from vaeapp.ui.state import K

ROOT = Path(__file__).resolve().parents[2]
QUICK = "--epochs 1 --batch-size 25 --no-jit --hidden 16".split()


@dataclass(frozen=True)
class Kind:
    """One small data set: how to write it, the CLI options that train on it,
    and what the trained model must show."""

    shape: tuple[int, int, int]  # (height, width, channels) of the model
    names: list[str]  # class names on the map ([] without labels)
    test_images: int  # points on the map
    options: tuple[str, ...] = ()
    image_size: int = 0  # --image-size
    skipped: int = 0  # bad files the CLI must count in its one line


KINDS = {
    # 60 grey 20x20 images, PNG and JPEG, flat, and three bad files.
    "grey-flat-folder": Kind((20, 20, 1), [], 6, skipped=3),
    # Colour PNG and JPEG of two source sizes in three class folders, brought
    # to 12x12, a bad file among them; a conv model, so the layers' shapes count.
    "colour-class-folder": Kind(
        (12, 12, 3),
        ["cats", "dogs", "owls"],
        9,
        ("--preset", "conv"),
        image_size=12,
        skipped=1,
    ),
    # uint8 (n, 12, 16): not square, labels without names, no test split.
    "uint8-npz": Kind((12, 16, 1), ["0", "1", "2"], 8, ("--preset", "conv")),
    # float (n, 8, 8, 3) in [0, 1] with its own test split and class names.
    "float-npz": Kind((8, 8, 3), ["apple", "pear"], 20),
}


def _noise(
    rng: np.random.Generator, height: int, width: int, channels: int
) -> Image.Image:
    """Random pixels, (height, width) grey or (height, width, 3) colour."""
    shape = (height, width) if channels == 1 else (height, width, channels)
    return Image.fromarray(rng.integers(0, 256, shape, dtype=np.uint8))


def _bad_files(folder: Path, rng: np.random.Generator) -> None:
    """A truncated PNG, a text file named .png and an empty .jpg."""
    buffer = io.BytesIO()
    _noise(rng, 20, 20, 3).save(buffer, format="PNG")
    (folder / "cut.png").write_bytes(buffer.getvalue()[:200])
    (folder / "notes.png").write_text("not an image")
    (folder / "empty.jpg").write_bytes(b"")


def write_data(kind: str, base: Path) -> Path:
    """Write the data set ``kind`` under ``base``; return its path."""
    rng = np.random.default_rng(len(kind))
    if kind == "grey-flat-folder":
        folder = base / "greys"
        folder.mkdir()
        for i in range(60):
            _noise(rng, 20, 20, 1).save(folder / f"{i:02d}.{'png' if i % 2 else 'jpg'}")
        _bad_files(folder, rng)
        return folder
    if kind == "colour-class-folder":
        folder = base / "pets"
        for name in KINDS[kind].names:
            (folder / name).mkdir(parents=True)
            for i in range(30):
                size = (24, 24) if i % 3 else (30, 18)
                picture = _noise(rng, *size, 3)
                picture.save(folder / name / f"{i:02d}.{'png' if i % 2 else 'jpg'}")
        jpeg = io.BytesIO()
        _noise(rng, 24, 24, 3).save(jpeg, format="JPEG")
        (folder / "owls" / "cut.jpg").write_bytes(jpeg.getvalue()[:300])
        return folder
    path = base / f"{kind}.npz"
    if kind == "uint8-npz":
        np.savez(
            path,
            x_train=rng.integers(0, 256, (80, 12, 16), dtype=np.uint8),
            y_train=rng.integers(0, 3, 80),
        )
    else:
        np.savez(
            path,
            x_train=rng.random((60, 8, 8, 3), dtype=np.float32),
            y_train=rng.integers(0, 2, 60),
            x_test=rng.random((20, 8, 8, 3), dtype=np.float32),
            y_test=rng.integers(0, 2, 20),
            class_names=np.array(["apple", "pear"]),
        )
    return path


@dataclass(frozen=True)
class Trained:
    """A data set and the CLI run that trained on it."""

    data: Path
    model: Path
    stdout: str


@pytest.fixture(scope="module")
def trained(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Trained]:
    """Every kind trained one epoch by ``python -m vaeapp.train``, the runs side
    by side (each spends most of its time importing TensorFlow, on one core)."""
    base = tmp_path_factory.mktemp("kinds")
    env = {**os.environ, "KERAS_BACKEND": "tensorflow", "TF_CPP_MIN_LOG_LEVEL": "2"}
    runs = {}
    for kind, spec in KINDS.items():
        data = write_data(kind, base)
        # Not --quiet where bad files are skipped: the count is printed then.
        quiet = [] if spec.skipped else ["--quiet"]
        command = [sys.executable, "-m", "vaeapp.train", "--data", str(data)]
        command += ["--out", str(base / "out"), "--name", kind, *QUICK, *quiet]
        process = subprocess.Popen(
            [*command, *spec.options, "--image-size", str(spec.image_size)],
            cwd=ROOT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        runs[kind] = (data, process)
    done = {}
    try:
        for kind, (data, process) in runs.items():
            stdout, stderr = process.communicate(timeout=600)
            assert process.returncode == 0, f"{kind}: {stderr[-2000:]}"
            done[kind] = Trained(data, base / "out" / kind, stdout)
    finally:  # a failed or hung run: stop the others too
        for _, process in runs.values():
            if process.poll() is None:
                process.kill()
                process.wait()
    return done


def _png(src: str) -> np.ndarray:
    """The pixels of a PNG data URL: (h, w) grey or (h, w, 3) colour."""
    return np.asarray(Image.open(io.BytesIO(base64.b64decode(src.split(",", 1)[1]))))


def _picture_shape(height: int, width: int, channels: int) -> tuple[int, ...]:
    return (height, width) if channels == 1 else (height, width, channels)


def _served(assets: dict, key: str, dtype: str) -> np.ndarray:
    """An array the map reads from its points file (or inline, base64)."""
    value = assets[key]
    if isinstance(value, str):
        return np.frombuffer(base64.b64decode(value), dtype)
    path = ROOT / "static" / assets["files"]["points"].removeprefix("app/static/")
    offset, count = value
    return np.frombuffer(path.read_bytes(), dtype, count=count, offset=offset)


@pytest.mark.parametrize("kind", list(KINDS))
def test_the_page_shows_each_kind_at_its_shape(
    trained: dict[str, Trained], kind: str
) -> None:
    """The map has every test image with its label and the set's class names,
    and the selected image and the grid are pictures of the model's shape."""
    spec, model_path = KINDS[kind], trained[kind].model
    at = new_app()
    at.session_state[K.ACTIVE_MODEL] = str(model_path)
    at.run()
    assert not at.exception
    assert not at.error
    assert at.session_state[K.ACTIVE_MODEL] == str(model_path)  # not a fallback
    height, width, channels = spec.shape
    assets = explorer_data(at)["assets"]
    assert assets["image_shape"] == list(spec.shape)
    assert assets["names"] == spec.names
    assert assets["count"] == spec.test_images
    points = _served(assets, "points", "<f4").reshape(-1, 2)
    labels = _served(assets, "labels", "u1")
    model = load_model(model_path)
    assert points.shape == (spec.test_images, 2)
    np.testing.assert_array_equal(labels, model.labels)
    assert labels.max() < max(len(spec.names), 1)
    digit = _png(sliders_data(at)["src"])
    assert digit.shape == _picture_shape(height, width, channels)
    send_event(at, "vaeapp.grid_click", "slow", True)  # the server's picture
    grid = component_data(at, "vaeapp.grid_click")[0]
    n = grid["n"]
    assert _png(grid["src"]).shape == _picture_shape(height * n, width * n, channels)


def _pixels(rows: np.ndarray) -> np.ndarray:
    """Images in [0, 1] or uint8, flat ``(n, h * w * c)`` -> uint8 rows."""
    if rows.dtype == np.uint8:
        return rows
    return np.rint(np.asarray(rows, np.float64) * 255).astype(np.uint8)


def _rows(images: np.ndarray) -> set[bytes]:
    return {row.tobytes() for row in _pixels(images)}


def _load_as_trained(kind: str, trained: Trained) -> tuple[LoadedModel, Dataset]:
    """The trained model, and its data loaded again as the CLI loaded it."""
    model = load_model(trained.model)
    return model, load_dataset("own", trained.data, image_size=KINDS[kind].image_size)


@pytest.mark.parametrize(
    "kind", ["grey-flat-folder", "colour-class-folder", "uint8-npz"]
)
def test_the_held_out_images_are_the_maps_and_never_trained_on(
    trained: dict[str, Trained], kind: str
) -> None:
    """A set without a test split: the model's test images are the held-out
    share, none of them among the images it was trained on."""
    model, data = _load_as_trained(kind, trained[kind])
    assert model.test_images is not None
    held_out, training = _rows(model.test_images), _rows(data.x_train)
    assert held_out == _rows(data.x_test)
    assert len(held_out) == KINDS[kind].test_images
    assert held_out.isdisjoint(training)


def test_an_npz_test_split_is_kept_as_the_maps_images(
    trained: dict[str, Trained],
) -> None:
    """An .npz with x_test: those images, in order, are the map's test images."""
    model, data = _load_as_trained("float-npz", trained["float-npz"])
    with np.load(trained["float-npz"].data) as npz:
        given = npz["x_test"].reshape(20, -1)
    np.testing.assert_array_equal(_pixels(model.test_images), _pixels(given))
    assert data.x_train.shape[0] == 60  # nothing else held out


@pytest.mark.parametrize("kind", ["grey-flat-folder", "colour-class-folder"])
def test_the_cli_counts_the_skipped_files_in_one_line(
    trained: dict[str, Trained], kind: str
) -> None:
    """Bad files in a folder are skipped, and the CLI says how many in one line."""
    lines = [line for line in trained[kind].stdout.splitlines() if "skipped" in line]
    count = KINDS[kind].skipped
    files = "1 file" if count == 1 else f"{count} files"
    assert len(lines) == 1 and lines[0].startswith(f"skipped {files} "), lines
