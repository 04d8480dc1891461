"""What a training run says it decided (issue 23): the images' size and
colour, a validation split smaller than asked, classes without a test image,
transparency, the time left, a machine without a GPU; and the settings behind
them (--background, presets named without the input size, offline data)."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from support import run_train

from vaeapp.core.config import BACKGROUNDS, ModelConfig, TrainConfig
from vaeapp.data import image_folder
from vaeapp.data.errors import DataError
from vaeapp.data.sources import Dataset, load_dataset
from vaeapp.jobs.progress import Progress, duration, read_progress, write_progress
from vaeapp.train import engine
from vaeapp.train.command import build_parser, configs_from_args
from vaeapp.train.report import run_notes, seconds_left

REPO_ROOT = Path(__file__).resolve().parents[2]
CUINIT = (
    "E0000 00:00:1796492360.557238   11821 cuda_platform.cc:52] failed call to "
    "cuInit: INTERNAL: CUDA error: Failed call to cuInit: UNKNOWN ERROR (303)\n"
)
INFO = (
    "I0000 00:00:1796492350.876313   11821 cudart_stub.cc:31] Could not find "
    "cuda drivers on your machine, GPU will not be used.\n"
)
PREAMBLE = (
    "WARNING: All log messages before absl::InitializeLog() is called are "
    "written to STDERR\n"
)


def _dataset(
    n_train: int, y_train: list[int], y_test: list[int], names: tuple[str, ...]
) -> Dataset:
    """A grey 8x8 data set with the given labels."""
    return Dataset(
        name="own",
        source="test",
        x_train=np.zeros((n_train, 64), np.float32),
        y_train=np.array(y_train, np.uint8),
        x_test=np.zeros((len(y_test), 64), np.float32),
        y_test=np.array(y_test, np.uint8),
        image_shape=(8, 8, 1),
        class_names=names,
    )


def _model(shape: tuple[int, int, int] = (8, 8, 1)) -> ModelConfig:
    return ModelConfig(hidden=(16,), image_shape=shape)


def test_a_smaller_validation_split_than_asked_is_said_with_both_sizes() -> None:
    """3,420 training images give 342 validation images, not the 5,000 asked:
    the run says so; a split of the size asked gets no line."""
    data = _dataset(3420, [0] * 3420, [0], ("a",))
    notes = run_notes(_model(), TrainConfig(), data)
    line = next(n for n in notes if n.startswith("validation split"))
    assert "342 images" in line and "3,420 training images" in line
    assert "5,000 asked" in line
    asked = TrainConfig(validation_size=300)
    assert not any("validation" in n for n in run_notes(_model(), asked, data))


def test_too_few_images_for_any_validation_split_are_said() -> None:
    """Nine training images hold no validation image: the run says there is none."""
    data = _dataset(9, [0] * 9, [0], ("a",))
    notes = run_notes(_model(), TrainConfig(), data)
    assert any(n.startswith("no validation split: 9 training images") for n in notes)


def test_a_class_without_test_image_is_named_with_its_size() -> None:
    """A 5-image class with no held-out image is named (spaces and all) with
    its count, and the line says it will be missing from the legend."""
    data = _dataset(25, [0] * 20 + [1] * 5, [0, 0], ("big class", "tiny one"))
    notes = run_notes(_model(), TrainConfig(validation_size=0), data)
    line = next(n for n in notes if n.startswith("no test image"))
    assert "'tiny one' (5 images)" in line and "legend" in line
    assert "big class" not in line


def test_every_class_with_a_test_image_gives_no_class_line() -> None:
    """When every trained class has a test image, no class line is printed."""
    data = _dataset(25, [0] * 20 + [1] * 5, [0, 1], ("a", "b"))
    notes = run_notes(_model(), TrainConfig(validation_size=0), data)
    assert not any("test image" in n for n in notes)


def test_the_model_line_names_the_layers_for_the_data_and_the_colour() -> None:
    """The first line gives the model's layers for the data chosen (64x64 RGB:
    12288 values) and why the images are RGB and of that size."""
    shape = (64, 64, 3)
    conv = ModelConfig.preset("conv", image_shape=shape)
    notes = run_notes(
        conv, TrainConfig(validation_size=0), _dataset(4, [0] * 4, [0], ("a",))
    )
    assert notes[0].startswith("model 12288-conv32-conv64-256-2 (conv) on 64x64 RGB")
    assert "colour auto: not every image is grey" in notes[0]
    sized = run_notes(
        _model((16, 16, 1)),
        TrainConfig(image_size=16, color="grey", validation_size=0),
        _dataset(4, [0] * 4, [0], ("a",)),
    )
    assert "(image size 16; colour grey)" in sized[0]


def test_the_time_left_is_for_the_whole_run() -> None:
    """Seconds left count every epoch to come, paced by the epochs after the
    first (which includes compiling); mid-epoch, the rest of this one too."""
    assert seconds_left([], 10) is None
    assert seconds_left([30.0], 10) == pytest.approx(9 * 30.0)
    assert seconds_left([30.0, 2.0, 4.0], 10) == pytest.approx(7 * 3.0)
    # 1 s for a quarter of epoch 4: 3 s more of it, then 6 epochs at 3 s.
    middle = seconds_left([30.0, 2.0, 4.0], 10, elapsed=1.0, fraction=0.25)
    assert middle == pytest.approx(3.0 + 6 * 3.0)
    assert seconds_left([1.0] * 10, 10) == 0.0


def test_a_time_span_reads_in_seconds_minutes_or_hours() -> None:
    """Spans are rounded up: 44.2 s -> '45 s', 61 s -> '2 min', 2 h 5 min."""
    assert [duration(s) for s in (44.2, 61, 7500)] == ["45 s", "2 min", "2 h 05 min"]


def test_the_progress_file_carries_the_notes_and_the_time_left(
    tmp_path: Path,
) -> None:
    """Notes and seconds left round-trip; a file with a note that is no text
    reads as no progress."""
    path = tmp_path / "p.json"
    written = Progress(state="running", epochs=3, notes=["a", "b"], seconds_left=12.5)
    write_progress(path, written)
    assert read_progress(path) == written
    write_progress(path, Progress(state="running", notes=[1]))  # type: ignore[list-item]
    assert read_progress(path) is None
    write_progress(path, Progress(state="running", seconds_left=-1.0))
    assert read_progress(path) is None


def test_cuda_lines_without_a_gpu_are_dropped_and_other_lines_kept() -> None:
    """Without a GPU device the cuInit error is dropped (and reported as no
    GPU); info and warning lines go as TF_CPP_MIN_LOG_LEVEL 2 asks; other
    errors and text that is not TensorFlow's stay."""
    other = "E0000 00:00:1796492360.5   11821 some.cc:1] a real error\n"
    text = PREAMBLE + INFO + CUINIT + other + "DeprecationWarning: x\n"
    shown, no_gpu = engine.startup_log(text, 2, gpu_device=False)
    assert shown == other + "DeprecationWarning: x\n" and no_gpu
    shown, no_gpu = engine.startup_log(text, 2, gpu_device=True)
    assert shown == CUINIT + other + "DeprecationWarning: x\n" and not no_gpu
    assert engine.startup_log(INFO, 0, gpu_device=True)[0] == INFO


def test_starting_tensorflow_without_a_gpu_says_so_in_one_line(
    monkeypatch: pytest.MonkeyPatch, capfd: pytest.CaptureFixture[str]
) -> None:
    """What TensorFlow writes to file descriptor 2 while it looks for GPUs is
    caught: on a machine without a GPU the cuInit error becomes one line
    saying it trains on the CPU; a real error line still reaches stderr."""
    import tensorflow as tf

    def listing(kind: str) -> list:
        os.write(2, CUINIT.encode() + b"E0000 00:00:1.0 1 x.cc:2] real\n")
        return []

    monkeypatch.setattr(tf.config, "list_physical_devices", listing)
    monkeypatch.setattr(engine, "gpu_device_present", lambda: False)
    monkeypatch.setenv("TF_CPP_MIN_LOG_LEVEL", "2")
    assert engine.start_tensorflow(verbose=True) == 0
    out, err = capfd.readouterr()
    assert "cuInit" not in err and "x.cc:2] real" in err
    assert out.strip().splitlines() == [
        "no GPU here (CUDA found no GPU device): training on the CPU"
    ]


def _transparent_folder(root: Path) -> Path:
    """Two classes of 16x16 PNGs whose left half is transparent."""
    pixels = np.zeros((16, 16, 4), np.uint8)
    pixels[:, 8:] = (200, 40, 40, 255)
    for name in ("red fox", "blue jay"):
        (root / name).mkdir(parents=True)
        for i in range(6):
            Image.fromarray(pixels, "RGBA").save(root / name / f"{i}.png")
    return root


def test_a_white_background_makes_transparent_pixels_white(tmp_path: Path) -> None:
    """In a reading block with background white, transparent pixels read as
    white and the block counts the images that had them."""
    folder = _transparent_folder(tmp_path / "pets")
    with image_folder.reading("white") as seen:
        data = load_dataset("pets", folder, color="rgb")
    images = np.concatenate([data.x_train, data.x_test]).reshape(-1, 16, 16, 3)
    np.testing.assert_allclose(images[:, :, :8], 1.0)
    assert (seen.images, seen.transparent) == (12, 12)
    assert seen.note == (
        "12 of 12 images have transparent pixels: they became white "
        "(background: black or white)"
    )


def test_the_background_is_one_setting_of_the_command_and_the_config() -> None:
    """--background white reaches TrainConfig; another value is refused in
    one line naming the allowed ones."""
    args = build_parser().parse_args(["--background", "white"])
    assert configs_from_args(args)[1].background == "white"
    with pytest.raises(ValueError, match="background must be one of black, white"):
        TrainConfig(background="grey")
    assert BACKGROUNDS == ("black", "white")


def test_the_preset_help_names_layers_without_the_input_size() -> None:
    """--help describes the presets from 'image' inwards, not as 784-... ."""
    parser = build_parser()
    preset = next(a for a in parser._actions if a.dest == "preset")
    assert "conv: image-conv32-conv64-256-2" in preset.help
    assert "tutorial: image-256-2" in preset.help
    assert "784" not in parser.format_help()


def test_a_failed_download_says_where_an_offline_copy_goes(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """No network: the one-line error gives the download's own reason and
    names Keras's cache file, --data and VAEAPP_MNIST_DATA."""
    import keras

    def fail(*args: object, **kwargs: object) -> None:
        raise Exception("URL fetch failure: no network")  # as Keras raises it

    monkeypatch.setattr(keras.datasets.mnist, "load_data", fail)
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "kh"))
    monkeypatch.delenv("VAEAPP_MNIST_DATA", raising=False)
    with pytest.raises(DataError) as info:
        load_dataset("mnist")
    message = str(info.value)
    assert "URL fetch failure: no network" in message
    assert str(tmp_path / "kh" / "datasets" / "mnist.npz") in message
    assert "--data PATH" in message and "VAEAPP_MNIST_DATA" in message
    assert not message.endswith("(Exception)") and "\n" not in message


def test_a_folder_run_prints_its_decisions_and_no_cuda_error(tmp_path: Path) -> None:
    """One epoch on a folder of transparent PNGs with a 1-image class: the
    output says the transparency, the small validation split and the class
    without a test image, with no cuInit line; the progress file has them."""
    folder = _transparent_folder(tmp_path / "pets")
    (folder / "lone one").mkdir()
    Image.new("RGB", (16, 16)).save(folder / "lone one" / "0.png")
    progress = tmp_path / "p.json"
    proc = run_train(
        *["--data", str(folder), "--out", str(tmp_path / "out")],
        *["--progress-file", str(progress)],
        *"--epochs 1 --batch-size 4 --hidden 8 --grid-size 0 --name m".split(),
        timeout=300,
        quiet=False,  # the command's own log level: no cuInit line
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "cuInit" not in proc.stderr
    assert "12 of 13 images have transparent pixels: they became black" in proc.stdout
    assert "validation split: 1 image," in proc.stdout
    assert "no test image for" in proc.stdout
    notes = read_progress(progress).notes
    assert any(n.startswith("model 768-8-2 on 16x16 RGB") for n in notes)
