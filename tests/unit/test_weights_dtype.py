"""Model folders that store their weights as float16 (``--weights-dtype``)."""

from __future__ import annotations

import h5py
import numpy as np
import pytest
from unit_helpers import tiny_train_config

from vaeapp.core.config import ModelConfig
from vaeapp.inference.numpy_vae import load_numpy_vae
from vaeapp.store.format import WEIGHTS_FILE
from vaeapp.store.reading import load_model

CONFIG = ModelConfig(hidden=(32, 16), latent_dim=2)


@pytest.fixture(scope="module")
def published(tmp_path_factory, dataset):
    """The same tiny run published with float32 and with float16 weights."""
    from vaeapp.train.loop import train_model
    from vaeapp.train.publish import save_result

    parent = tmp_path_factory.mktemp("dtypes")
    folders, results = {}, {}
    for dtype in ("float32", "float16"):
        config = tiny_train_config(grid_size=0, weights_dtype=dtype)
        results[dtype] = train_model(CONFIG, config, dataset, verbose=False)
        folders[dtype] = save_result(results[dtype], parent, f"m-{dtype}")
    return folders, results


def _arrays(path):
    found = {}
    with h5py.File(path, "r") as handle:
        handle.visititems(
            lambda name, item: (
                found.__setitem__(name, item[()])
                if isinstance(item, h5py.Dataset)
                else None
            )
        )
    return found


def test_float16_folder_stores_every_float_array_in_half_the_bytes(published):
    """Every float weight array of the float16 file is float16 and the file is
    at most 60 % of the float32 one, with the same array paths."""
    folders, _ = published
    half = _arrays(folders["float16"] / WEIGHTS_FILE)
    full = _arrays(folders["float32"] / WEIGHTS_FILE)
    assert half.keys() == full.keys()
    floats = [a for a in half.values() if np.ndim(a) and a.dtype.kind == "f"]
    assert floats and all(a.dtype == np.float16 for a in floats)
    size = (folders["float16"] / WEIGHTS_FILE).stat().st_size
    assert size < 0.6 * (folders["float32"] / WEIGHTS_FILE).stat().st_size


def test_float16_figures_are_measured_on_the_stored_weights(published, dataset):
    """The run's model holds exactly the stored float16 values, so the test
    figures in metrics.json describe the folder; NumPy and Keras both read it."""
    import keras

    from vaeapp.model.vae import VAE

    folders, results = published
    path = folders["float16"] / WEIGHTS_FILE
    x = dataset.x_test[:8]
    mean = np.asarray(results["float16"].model.encoder.predict(x, verbose=0)[0])
    np.testing.assert_allclose(
        load_numpy_vae(path, CONFIG).encode(x)[0], mean, atol=1e-5
    )
    revived = VAE(CONFIG)
    revived.load_weights(str(path))
    for got, want in zip(
        revived.get_weights(), results["float16"].model.get_weights(), strict=True
    ):
        np.testing.assert_array_equal(keras.ops.convert_to_numpy(got), want)
    loaded = load_model(folders["float16"])
    assert loaded.record.metrics["test_neg_elbo"] == pytest.approx(
        results["float16"].test_metrics["test_neg_elbo"]
    )


def test_weights_beyond_float16_range_are_refused():
    """Rounding a weight above 65504 to float16 raises ValueError naming float32."""
    from vaeapp.train.loop import stored_weights

    kept = stored_weights([np.array([1.0, 0.1], np.float32)], "float16")
    assert kept[0][1] == np.float32(np.float16(0.1))
    with pytest.raises(ValueError, match="store the weights as float32"):
        stored_weights([np.array([1e6], np.float32)], "float16")
