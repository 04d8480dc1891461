"""Train, save, load: the NumPy model reproduces the Keras model it was saved from."""

from __future__ import annotations

import numpy as np
import pytest

from vaeapp.core.config import ModelConfig
from vaeapp.store.format import LATENTS_FILE, WEIGHTS_FILE
from vaeapp.store.reading import load_model, read_record

ARCHITECTURES = [((16,), 2), ((16, 8), 2), ((16,), 5), ((16, 8), 5)]


def keras_decode(model, z):
    import keras

    return keras.ops.convert_to_numpy(
        keras.ops.sigmoid(model.decoder(z, training=False))
    )


def keras_encode(model, x):
    import keras

    mean, log_var = model.encoder(x, training=False)
    return keras.ops.convert_to_numpy(mean), keras.ops.convert_to_numpy(log_var)


@pytest.mark.parametrize(("hidden", "latent"), ARCHITECTURES)
def test_numpy_model_matches_keras_model(trained, dataset, hidden, latent):
    """load_model's NumPy decode and encode match the Keras model within 1e-5."""
    run = trained(hidden, latent)
    loaded = load_model(run.folder)
    assert loaded.record.model == ModelConfig(hidden=hidden, latent_dim=latent)
    z = np.random.default_rng(0).normal(0, 2, (64, latent)).astype(np.float32)
    pixels = loaded.vae.decode(z)
    assert pixels.shape == (64, 784)
    assert np.abs(pixels - keras_decode(run.result.model, z)).max() < 1e-5
    x = dataset.x_test[:64]
    mean, log_var = loaded.vae.encode(x)
    keras_mean, keras_log_var = keras_encode(run.result.model, x)
    assert mean.shape == log_var.shape == (64, latent)
    assert np.abs(mean - keras_mean).max() < 1e-5
    assert np.abs(log_var - keras_log_var).max() < 1e-5


@pytest.mark.parametrize(("hidden", "latent"), ARCHITECTURES[:1] + ARCHITECTURES[-1:])
def test_saved_latents_and_record_match_the_training_result(
    trained, dataset, hidden, latent
):
    """The saved folder holds the run's encoded test set, labels, history, configs."""
    run = trained(hidden, latent)
    loaded = load_model(run.folder)
    np.testing.assert_array_equal(loaded.latent_mean, run.result.latent_mean)
    np.testing.assert_array_equal(loaded.latent_log_var, run.result.latent_log_var)
    np.testing.assert_array_equal(loaded.labels, dataset.y_test)
    assert loaded.latent_mean.shape == (dataset.x_test.shape[0], latent)
    record = read_record(run.folder)
    assert record.train == run.result.train_config
    assert record.data_source == "synthetic"
    assert record.metrics["history"] == run.result.history
    assert record.test_neg_elbo == run.result.test_metrics["test_neg_elbo"]
    assert record.epochs_trained == 2
    assert (run.folder / LATENTS_FILE).is_file()


def test_snapshots_are_saved_as_uint8_grids(trained):
    """Snapshots after chosen epochs load back as (g*28, g*28) uint8 grids."""
    run = trained((16,), 2)
    loaded = load_model(run.folder)
    assert sorted(loaded.snapshots) == [1, 2]
    for epoch, grid in loaded.snapshots.items():
        assert grid.dtype == np.uint8 and grid.shape == (56, 56)
        np.testing.assert_array_equal(grid, run.result.snapshots[epoch])


@pytest.mark.parametrize(("hidden", "latent"), ARCHITECTURES[1:2] + ARCHITECTURES[2:3])
def test_weights_reload_into_a_fresh_keras_vae(trained, dataset, hidden, latent):
    """A fresh VAE given the saved weights by load_weights gives identical outputs."""
    from vaeapp.model.vae import VAE

    run = trained(hidden, latent)
    fresh = VAE(ModelConfig(hidden=hidden, latent_dim=latent))
    z = np.random.default_rng(1).normal(0, 1, (16, latent)).astype(np.float32)
    x = dataset.x_test[:16]
    assert not np.array_equal(keras_decode(fresh, z), keras_decode(run.result.model, z))
    fresh.load_weights(str(run.folder / WEIGHTS_FILE))
    np.testing.assert_array_equal(
        keras_decode(fresh, z), keras_decode(run.result.model, z)
    )
    pairs = zip(keras_encode(fresh, x), keras_encode(run.result.model, x), strict=True)
    for got, want in pairs:
        np.testing.assert_array_equal(got, want)


def test_loaded_arrays_are_read_only(trained):
    """Arrays of a loaded model cannot be modified in place (they are shared)."""
    loaded = load_model(trained((16,), 2).folder)
    arrays = [
        loaded.latent_mean,
        loaded.latent_log_var,
        loaded.labels,
        *loaded.snapshots.values(),
        loaded.vae.mean_head.kernel,
        loaded.vae.logits_head.bias,
    ]
    for array in arrays:
        with pytest.raises(ValueError, match="read-only"):
            array[0] = 0
    decoded = loaded.vae.decode(np.zeros((2, 2), np.float32))
    decoded[0, 0] = 0.5  # outputs are fresh arrays the caller may change
