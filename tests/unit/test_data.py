"""Loading data from Keras-layout .npz files, IDX folders, the env var and Keras."""

from __future__ import annotations

import gzip
import struct

import numpy as np
import pytest
from unit_helpers import idx_bytes, synthetic_arrays, write_idx_folder, write_npz

from vaeapp.data.array_files import read_idx
from vaeapp.data.errors import DataError
from vaeapp.data.sources import env_var, load_dataset, resolve_path

ENV = "VAEAPP_MNIST_DATA"


@pytest.fixture(autouse=True)
def _no_data_env(monkeypatch):
    monkeypatch.delenv(ENV, raising=False)
    monkeypatch.delenv("VAEAPP_FASHION_MNIST_DATA", raising=False)


def read_from(data, path) -> bool:
    """Whether ``data`` records that it was read from ``path`` (by its name, as
    config.json's data_source does, never the machine's path)."""
    return f"'{path.name}'" in data.source and str(path.parent) not in data.source


def assert_matches(data, arrays):
    """``data`` is ``arrays`` flattened to float32 (n, 784) in [0, 1], uint8 labels."""
    for split in ("train", "test"):
        x, y = getattr(data, f"x_{split}"), getattr(data, f"y_{split}")
        n = arrays[f"x_{split}"].shape[0]
        assert x.dtype == np.float32 and x.shape == (n, 784)
        x = np.asarray(x)  # a streamed x_train reads every image
        assert 0.0 <= x.min() and x.max() <= 1.0
        expected = arrays[f"x_{split}"].reshape(n, 784).astype(np.float32) / 255.0
        np.testing.assert_allclose(x, expected, rtol=0, atol=1e-7)
        assert y.dtype == np.uint8 and y.shape == (n,)
        np.testing.assert_array_equal(y, arrays[f"y_{split}"])


def test_env_var_name():
    """The env var for a dataset is VAEAPP_<NAME>_DATA."""
    assert env_var("mnist") == ENV
    assert env_var("fashion_mnist") == "VAEAPP_FASHION_MNIST_DATA"


def test_load_from_keras_layout_npz(npz_path, arrays):
    """A Keras-layout .npz loads as scaled float32 images and uint8 labels."""
    data = load_dataset("mnist", npz_path)
    assert_matches(data, arrays)
    assert data.name == "mnist" and read_from(data, npz_path)
    assert data.class_names == tuple("0123456789")


def test_load_accepts_path_as_string(npz_path, arrays):
    """The path may be given as a str as well as a Path."""
    assert_matches(load_dataset("mnist", str(npz_path)), arrays)


@pytest.mark.parametrize("compress", [True, False])
def test_load_from_idx_folder(tmp_path, arrays, compress):
    """A folder of the four IDX files (gzip or plain) loads like the .npz."""
    folder = write_idx_folder(tmp_path / "idx", arrays, compress=compress)
    data = load_dataset("mnist", folder)
    assert_matches(data, arrays)
    assert read_from(data, folder)


def test_read_idx_decodes_big_endian_header(tmp_path):
    """read_idx returns (n, rows, cols) images and (n,) labels from IDX bytes."""
    images = np.arange(2 * 28 * 28, dtype=np.uint64).astype(np.uint8).reshape(2, 28, 28)
    labels = np.array([3, 9], np.uint8)
    (tmp_path / "img").write_bytes(idx_bytes(images))
    (tmp_path / "lab.gz").write_bytes(gzip.compress(idx_bytes(labels)))
    np.testing.assert_array_equal(read_idx(tmp_path / "img"), images)
    np.testing.assert_array_equal(read_idx(tmp_path / "lab.gz"), labels)


def test_env_var_is_honoured(monkeypatch, npz_path, arrays):
    """With no path given, load_dataset reads the file named by VAEAPP_MNIST_DATA."""
    monkeypatch.setenv(ENV, str(npz_path))
    data = load_dataset("mnist")
    assert read_from(data, npz_path)
    assert_matches(data, arrays)


def test_explicit_path_beats_env_var(monkeypatch, npz_path, tmp_path):
    """An explicit path is used even when the env var names something else."""
    monkeypatch.setenv(ENV, str(tmp_path / "nonexistent.npz"))
    assert resolve_path("mnist", npz_path) == npz_path
    assert read_from(load_dataset("mnist", npz_path), npz_path)


def test_empty_path_falls_back_to_env_var(monkeypatch, npz_path):
    """An empty path string means 'not given', so the env var is used."""
    monkeypatch.setenv(ENV, str(npz_path))
    assert resolve_path("mnist", "") == npz_path


def test_missing_path_raises_data_error(tmp_path):
    """A path that does not exist raises DataError saying how to supply data."""
    with pytest.raises(DataError, match=r"does not exist; pass --data PATH or set"):
        load_dataset("mnist", tmp_path / "nope.npz")


@pytest.mark.parametrize("name", ["../evil", "Has Space", "x" * 33, ""])
def test_unsafe_dataset_name_raises_data_error(npz_path, name):
    """A dataset name that is not a short safe name raises DataError."""
    with pytest.raises(DataError, match="dataset must be one of mnist, fashion_mnist"):
        load_dataset(name, npz_path)


def test_npz_lacking_x_train_raises_data_error(tmp_path, arrays):
    """An .npz without x_train raises DataError naming it."""
    del arrays["x_train"]
    path = write_npz(tmp_path / "partial.npz", arrays)
    with pytest.raises(DataError, match="lacks x_train"):
        load_dataset("mnist", path)


def test_npz_with_x_test_but_no_y_test_raises_data_error(tmp_path, arrays):
    """Labels for the training images but none for the test images are refused."""
    del arrays["y_test"]
    path = write_npz(tmp_path / "partial.npz", arrays)
    with pytest.raises(DataError, match="y_test is missing"):
        load_dataset("mnist", path)


def test_file_that_is_not_npz_raises_data_error(tmp_path):
    """A file that is not an .npz raises DataError, not a numpy error."""
    path = tmp_path / "data.npz"
    path.write_text("just text\n")
    with pytest.raises(DataError, match="cannot read .* as an .npz file"):
        load_dataset("mnist", path)


def test_npz_with_pickled_arrays_is_refused(tmp_path, arrays):
    """Object arrays (which need pickle) are refused with DataError."""
    arrays["y_train"] = np.array([{"x": 1}] * arrays["x_train"].shape[0], dtype=object)
    path = tmp_path / "pickled.npz"
    np.savez(path, **arrays)
    with pytest.raises(DataError, match="cannot read"):
        load_dataset("mnist", path)


@pytest.mark.parametrize(
    ("key", "value", "message"),
    [
        (
            "x_train",
            np.zeros((5, 27, 27, 2), np.uint8),
            r"x_train must have shape \(n, height, width\) or",
        ),
        (
            "x_test",
            np.zeros((100, 784), np.uint8),
            r"x_test must have shape \(n, height, width\)",
        ),
        (
            "x_test",
            np.zeros((100, 27, 27), np.uint8),
            r"x_test images \(27, 27, 1\) differ from x_train's \(28, 28, 1\)",
        ),
        ("y_train", np.zeros((199,), np.uint8), r"y_train must have shape \(200,\)"),
        ("y_test", np.zeros((100, 1), np.uint8), r"y_test must have shape \(100,\)"),
        (
            "y_train",
            np.full((200,), 1000, np.uint16),
            "y_train must hold integer labels 0 to 999",
        ),
        ("y_test", np.full((100,), 0.5), "y_test must hold integer labels 0 to 999"),
        (
            "y_train",
            np.full((200,), 10, np.uint8),
            "labels go up to 10 but there are 10 class names",
        ),
        ("x_train", np.zeros((0, 28, 28), np.uint8), "x_train is empty"),
        (
            "x_train",
            np.full((200, 28, 28), 300.0),
            "images must hold pixel values 0 to 255",
        ),
        (
            "x_train",
            np.full((200, 28, 28), np.nan),
            "images must hold pixel values 0 to 255",
        ),
    ],
)
def test_npz_with_wrong_arrays_raises_data_error(tmp_path, arrays, key, value, message):
    """Arrays of the wrong shape, label range or pixel range raise DataError."""
    arrays[key] = value
    if key == "x_train" and value.shape[0] == 0:
        arrays["y_train"] = np.zeros((0,), np.uint8)
    path = write_npz(tmp_path / "bad.npz", arrays)
    with pytest.raises(DataError, match=message):
        load_dataset("mnist", path)


def test_float_images_in_unit_range_are_kept(tmp_path, arrays):
    """Float images already in [0, 1] are used as they are; 0..255 floats are scaled."""
    unit = arrays["x_train"].astype(np.float64) / 255.0
    arrays["x_train"] = unit
    arrays["x_test"] = arrays["x_test"].astype(np.float32)
    data = load_dataset("mnist", write_npz(tmp_path / "f.npz", arrays))
    np.testing.assert_allclose(data.x_train, unit.reshape(-1, 784), atol=1e-7)
    np.testing.assert_allclose(
        data.x_test, arrays["x_test"].reshape(-1, 784) / 255.0, atol=1e-7
    )
    assert data.x_train.dtype == np.float32


def test_truncated_idx_file_raises_data_error(tmp_path, arrays):
    """An IDX image file missing its last bytes raises DataError with byte counts."""
    folder = write_idx_folder(tmp_path / "idx", arrays)
    raw = idx_bytes(arrays["x_train"])[:-10]
    (folder / "train-images-idx3-ubyte.gz").write_bytes(gzip.compress(raw))
    expected = 200 * 28 * 28
    with pytest.raises(
        DataError, match=f"holds {expected - 10} bytes of data, expected {expected}"
    ):
        load_dataset("mnist", folder)


def test_truncated_gzip_stream_raises_data_error(tmp_path, arrays):
    """A gzip file cut off mid-stream raises DataError, not EOFError."""
    folder = write_idx_folder(tmp_path / "idx", arrays)
    path = folder / "t10k-labels-idx1-ubyte.gz"
    path.write_bytes(path.read_bytes()[:-12])
    with pytest.raises(DataError, match="cannot read .*t10k-labels-idx1-ubyte.gz"):
        load_dataset("mnist", folder)


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"\x00\x00", "too short to be an IDX file"),
        (b"\x00\x00\x08\x03\x00\x00\x00\x02", "too short to be an IDX image file"),
        (
            b"\x00\x00\x09\x99\x00\x00\x00\x02xx",
            "not an IDX file of uint8 images or labels",
        ),
    ],
)
def test_malformed_idx_header_raises_data_error(tmp_path, content, message):
    """IDX files with short or unknown headers raise DataError."""
    path = tmp_path / "bad-idx"
    path.write_bytes(content)
    with pytest.raises(DataError, match=message):
        read_idx(path)


def test_idx_folder_missing_a_file_raises_data_error(tmp_path, arrays):
    """An IDX folder without one of the four files raises DataError naming it."""
    folder = write_idx_folder(tmp_path / "idx", arrays)
    (folder / "train-labels-idx1-ubyte.gz").unlink()
    with pytest.raises(DataError, match="lacks train-labels-idx1-ubyte.gz"):
        load_dataset("mnist", folder)


def test_idx_images_of_another_size_than_the_test_images_raise_data_error(tmp_path):
    """IDX training images of another size than the test images raise DataError."""
    arrays = synthetic_arrays(n_train=4, n_test=2)
    arrays["x_train"] = np.zeros((4, 32, 32), np.uint8)
    folder = write_idx_folder(tmp_path / "idx", arrays)
    with pytest.raises(DataError, match=r"x_test images \(28, 28, 1\) differ"):
        load_dataset("mnist", folder)


def test_failed_download_raises_data_error_naming_both_options(monkeypatch):
    """No local path and a failed download: DataError names --data and the env var."""
    import keras

    calls = []

    def fail(*args, **kwargs):
        calls.append(1)
        raise OSError("network unreachable")

    monkeypatch.setattr(keras.datasets.mnist, "load_data", fail)
    with pytest.raises(DataError) as info:
        load_dataset("mnist")
    message = str(info.value)
    assert calls == [1]
    assert "could not download mnist (OSError)" in message
    assert "--data" in message and ENV in message
    assert "\n" not in message


def test_corrupt_gzip_stream_raises_data_error(tmp_path, arrays):
    """A gzip file with a corrupt deflate stream raises DataError, not zlib.error."""
    folder = write_idx_folder(tmp_path / "idx", arrays)
    raw = struct.pack(">IIII", 2051, 200, 28, 28) + bytes(200 * 784)
    damaged = bytearray(gzip.compress(raw))
    for i in range(20, 40):
        damaged[i] ^= 0xFF
    (folder / "train-images-idx3-ubyte.gz").write_bytes(bytes(damaged))
    with pytest.raises(DataError, match="cannot read"):
        load_dataset("mnist", folder)


def test_idx_header_with_overflowing_size_raises_data_error(tmp_path):
    """An IDX header whose dimensions multiply past 2**64 raises DataError."""
    path = tmp_path / "huge-idx"
    path.write_bytes(struct.pack(">IIII", 2051, 2**31, 2**31, 4))
    with pytest.raises(DataError):
        read_idx(path)
