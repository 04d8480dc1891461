"""Safe reading of weights files by the NumPy inference path."""

from __future__ import annotations

import shutil
import subprocess
import sys
import warnings
from pathlib import Path

import h5py
import numpy as np
import pytest

from vaeapp.core.config import ModelConfig
from vaeapp.inference.numpy_vae import load_numpy_vae, sigmoid
from vaeapp.inference.weights_file import WeightsError, read_layer_arrays
from vaeapp.model.layout import encoder_layers
from vaeapp.store.format import WEIGHTS_FILE

REPO_ROOT = Path(__file__).resolve().parents[2]

CONFIG = ModelConfig(hidden=(16,), latent_dim=2)
FIRST = encoder_layers(CONFIG)[0].path  # "encoder/layers/dense"
KERNEL, BIAS = f"{FIRST}/vars/0", f"{FIRST}/vars/1"


@pytest.fixture
def weights(trained, tmp_path):
    """A private copy of a valid Keras weights file for CONFIG."""
    path = tmp_path / WEIGHTS_FILE
    shutil.copyfile(trained((16,), 2).folder / WEIGHTS_FILE, path)
    return path


def test_valid_weights_file_loads(weights):
    """A weights file written by training loads, with every layer's shapes."""
    vae = load_numpy_vae(weights, CONFIG)
    assert vae.encoder_hidden[0].kernel.shape == (784, 16)
    assert vae.mean_head.kernel.shape == vae.log_var_head.kernel.shape == (16, 2)
    assert vae.logits_head.kernel.shape == (16, 784)
    assert vae.logits_head.kernel.dtype == np.float32
    pixels = vae.decode(np.zeros((3, 2)))
    assert pixels.shape == (3, 784) and 0 <= pixels.min() and pixels.max() <= 1


def test_weights_for_another_architecture_are_refused(weights):
    """Reading a file against a config with other widths raises WeightsError."""
    with pytest.raises(
        WeightsError, match=r"has shape \(784, 16\), expected \(784, 32\)"
    ):
        read_layer_arrays(weights, ModelConfig(hidden=(32,), latent_dim=2))
    with pytest.raises(WeightsError):
        read_layer_arrays(weights, ModelConfig(hidden=(16,), latent_dim=3))


def test_wrong_shape_is_refused(weights):
    """A kernel replaced by one of another shape raises WeightsError naming the path."""
    with h5py.File(weights, "r+") as f:
        del f[KERNEL]
        f[KERNEL] = np.zeros((784, 17), np.float32)
    with pytest.raises(
        WeightsError, match=rf"{KERNEL} has shape \(784, 17\), expected \(784, 16\)"
    ):
        load_numpy_vae(weights, CONFIG)


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_non_finite_values_are_refused(weights, bad):
    """A NaN or infinite weight raises WeightsError."""
    with h5py.File(weights, "r+") as f:
        f[BIAS][3] = bad
    with pytest.raises(WeightsError, match=rf"{BIAS} holds NaN or infinite values"):
        load_numpy_vae(weights, CONFIG)


def test_missing_array_is_refused(weights):
    """A file lacking one layer's kernel raises WeightsError."""
    with h5py.File(weights, "r+") as f:
        del f[KERNEL]
    with pytest.raises(WeightsError, match=f"weights file lacks {KERNEL}"):
        load_numpy_vae(weights, CONFIG)


def test_integer_arrays_are_refused(weights):
    """Weights stored as integers raise WeightsError."""
    with h5py.File(weights, "r+") as f:
        del f[BIAS]
        f[BIAS] = np.zeros((16,), np.int32)
    with pytest.raises(WeightsError, match="expected floats"):
        load_numpy_vae(weights, CONFIG)


def test_external_link_is_refused(weights, tmp_path):
    """An HDF5 external link, even to a valid-looking array, raises WeightsError."""
    other = tmp_path / "other.h5"
    with h5py.File(weights, "r") as src, h5py.File(other, "w") as dst:
        dst["kernel"] = src[KERNEL][()]
    with h5py.File(weights, "r+") as f:
        del f[KERNEL]
        f[KERNEL] = h5py.ExternalLink(str(other), "/kernel")
    with h5py.File(
        weights, "r"
    ) as f:  # the link itself resolves: only policy refuses it
        assert f[KERNEL].shape == (784, 16)
    with pytest.raises(WeightsError, match="link \\(ExternalLink\\)"):
        load_numpy_vae(weights, CONFIG)


def test_external_link_anywhere_is_refused(weights, tmp_path):
    """An external link in a group the model does not read is refused too."""
    with h5py.File(weights, "r+") as f:
        f["extra"] = h5py.ExternalLink(str(tmp_path / "missing.h5"), "/x")
    with pytest.raises(WeightsError, match="link"):
        load_numpy_vae(weights, CONFIG)


def test_soft_link_is_refused(weights):
    """A soft link raises WeightsError."""
    with h5py.File(weights, "r+") as f:
        f["decoder/alias"] = h5py.SoftLink(f"/{KERNEL}")
    with pytest.raises(WeightsError, match="link \\(SoftLink\\)"):
        load_numpy_vae(weights, CONFIG)


def test_external_storage_is_refused(weights, tmp_path):
    """A dataset whose bytes live in another file (external storage) is refused."""
    raw = tmp_path / "bias.bin"
    np.zeros(16, np.float32).tofile(raw)
    with h5py.File(weights, "r+") as f:
        del f[BIAS]
        f.create_dataset(BIAS, shape=(16,), dtype="f4", external=[(str(raw), 0, 64)])
    with pytest.raises(WeightsError, match="storage at "):
        load_numpy_vae(weights, CONFIG)


@pytest.mark.parametrize(
    "content", [b"", b"not an HDF5 file\n" * 10, b"PK\x03\x04zipdata"]
)
def test_non_hdf5_file_is_refused(tmp_path, content):
    """A file that is not HDF5 raises WeightsError, not an h5py error."""
    path = tmp_path / WEIGHTS_FILE
    path.write_bytes(content)
    with pytest.raises(WeightsError, match=f"cannot read weights {WEIGHTS_FILE}"):
        load_numpy_vae(path, CONFIG)


def test_missing_file_is_refused(tmp_path):
    """A weights path that does not exist raises WeightsError."""
    with pytest.raises(WeightsError, match="cannot read weights"):
        load_numpy_vae(tmp_path / "nope.weights.h5", CONFIG)


def test_sigmoid_is_stable_for_large_inputs():
    """sigmoid gives 0 and 1 at +-1000 without overflow warnings, 0.5 at 0."""
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        out = sigmoid(np.array([-1000.0, 0.0, 1000.0], np.float32))
    np.testing.assert_allclose(out, [0.0, 0.5, 1.0], atol=1e-7)


def test_virtual_dataset_reading_another_file_is_refused(weights, tmp_path):
    """A virtual dataset that maps its data from another file is refused like a link."""
    other = tmp_path / "other.h5"
    with h5py.File(other, "w") as f:
        f["data"] = np.full((784, 16), 7.0, np.float32)
    with h5py.File(weights, "r+") as f:
        del f[KERNEL]
        layout = h5py.VirtualLayout(shape=(784, 16), dtype="f4")
        layout[:] = h5py.VirtualSource(str(other), "data", shape=(784, 16))
        f[f"{FIRST}/vars"].create_virtual_dataset("0", layout)
    with pytest.raises(WeightsError):
        load_numpy_vae(weights, CONFIG)


def test_hard_link_cycle_is_refused_without_hanging(weights):
    """A group hard-linked inside itself is refused instead of walked forever."""
    with h5py.File(weights, "r+") as f:
        f["encoder/layers/loop"] = f["encoder"]
    code = (
        "import sys; from vaeapp.core.config import ModelConfig; "
        "from vaeapp.inference.weights_file import WeightsError, read_layer_arrays\n"
        "try:\n"
        "    read_layer_arrays(sys.argv[1], ModelConfig(hidden=(16,), latent_dim=2))\n"
        "except WeightsError as error:\n"
        "    print('refused:', error)"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code, str(weights)],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith("refused: ")


def test_committed_datatype_gives_weights_error(weights):
    """A committed datatype in the file raises WeightsError, not AttributeError."""
    with h5py.File(weights, "r+") as f:
        f["named_type"] = np.dtype("f4")
    with pytest.raises(WeightsError):
        load_numpy_vae(weights, CONFIG)
