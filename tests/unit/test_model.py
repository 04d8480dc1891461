"""The Keras VAE: loss terms against closed forms, the Sampling layer, metrics."""

from __future__ import annotations

import math

import numpy as np
import pytest

from vaeapp.core.config import ModelConfig
from vaeapp.model.layout import parameter_count


@pytest.fixture(scope="module")
def keras():
    import keras

    return keras


@pytest.fixture(scope="module")
def model_module():
    import vaeapp.model.vae

    return vaeapp.model.vae


def to_numpy(keras, tensor):
    return np.asarray(keras.ops.convert_to_numpy(tensor))


def analytic_kl(mean, log_var):
    """Sum over dims of KL(N(m, s^2) || N(0, 1)) = log(1/s) + (s^2 + m^2)/2 - 1/2."""
    s = np.exp(0.5 * log_var)
    return np.sum(np.log(1.0 / s) + (s**2 + mean**2) / 2.0 - 0.5, axis=-1)


@pytest.mark.parametrize(("batch", "dim"), [(1, 2), (16, 5), (7, 32)])
def test_kl_divergence_matches_closed_form(keras, model_module, batch, dim):
    """kl_divergence equals the analytic Gaussian KL per row, summed over dims."""
    rng = np.random.default_rng(batch * 100 + dim)
    mean = rng.normal(0, 2, (batch, dim)).astype(np.float32)
    log_var = rng.normal(0, 1.5, (batch, dim)).astype(np.float32)
    got = to_numpy(keras, model_module.kl_divergence(mean, log_var))
    expected = analytic_kl(mean.astype(np.float64), log_var.astype(np.float64))
    assert got.shape == (batch,)
    np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-5)
    assert np.all(got >= 0)


def test_kl_divergence_is_zero_for_the_prior(keras, model_module):
    """KL is exactly zero when mean is 0 and log_var is 0 (q equals the prior)."""
    zeros = np.zeros((4, 3), np.float32)
    np.testing.assert_array_equal(
        to_numpy(keras, model_module.kl_divergence(zeros, zeros)), 0
    )


def test_reconstruction_loss_is_summed_bernoulli_nll(keras, model_module):
    """reconstruction_loss is -sum(x log p + (1-x) log(1-p)), p = sigmoid(logits)."""
    rng = np.random.default_rng(3)
    x = rng.random((6, 784)).astype(np.float32)
    x[0] = np.round(x[0])  # binary pixels too
    logits = rng.normal(0, 3, (6, 784)).astype(np.float32)
    p = 1.0 / (1.0 + np.exp(-logits.astype(np.float64)))
    expected = -np.sum(x * np.log(p) + (1 - x) * np.log(1 - p), axis=-1)
    got = to_numpy(keras, model_module.reconstruction_loss(x, logits))
    assert got.shape == (6,)
    np.testing.assert_allclose(got, expected, rtol=1e-5)


def test_reconstruction_loss_is_not_clipped_for_confident_mistakes(keras, model_module):
    """A pixel on in x but at logit -40 costs about 40 nats: no clipping cap."""
    x = np.zeros((1, 784), np.float32)
    x[0, 0] = 1.0
    logits = np.full((1, 784), -40.0, np.float32)
    got = float(to_numpy(keras, model_module.reconstruction_loss(x, logits))[0])
    # pixel 0 costs log(1 + e^40) ~ 40; the other 783 cost log(1 + e^-40) ~ 0.
    assert got == pytest.approx(40.0, rel=1e-4)


@pytest.mark.parametrize("batch", [1, 3, 64, 257])
def test_sampling_output_has_the_mean_shape(keras, model_module, batch):
    """Sampling returns one draw per row with the mean's shape, for any batch size."""
    layer = model_module.Sampling(seed=0)
    mean = np.zeros((batch, 5), np.float32)
    out = to_numpy(keras, layer((mean, np.zeros_like(mean))))
    assert out.shape == (batch, 5)
    assert np.isfinite(out).all()


def test_sampling_in_a_functional_model_accepts_any_batch_size(keras, model_module):
    """A model built on (None, d) inputs samples for any batch size."""
    mean_in = keras.Input(shape=(3,))
    log_var_in = keras.Input(shape=(3,))
    z = model_module.Sampling(seed=1)((mean_in, log_var_in))
    model = keras.Model([mean_in, log_var_in], z)
    assert tuple(z.shape) == (None, 3)
    for batch in (1, 10, 33):
        out = to_numpy(keras, model([np.ones((batch, 3)), np.zeros((batch, 3))]))
        assert out.shape == (batch, 3)


def test_sampling_with_tiny_variance_returns_the_mean(keras, model_module):
    """With log_var very negative the draw equals the mean (z = mean + ~0 * eps)."""
    rng = np.random.default_rng(5)
    mean = rng.normal(0, 3, (20, 4)).astype(np.float32)
    log_var = np.full_like(mean, -60.0)
    out = to_numpy(keras, model_module.Sampling(seed=2)((mean, log_var)))
    np.testing.assert_allclose(out, mean, rtol=0, atol=1e-6)


def test_sampling_scales_noise_by_standard_deviation(keras, model_module):
    """Draws have the requested mean and standard deviation exp(log_var / 2)."""
    n = 20_000
    mean = np.tile(np.array([[2.0, -1.0]], np.float32), (n, 1))
    log_var = np.tile(np.log(np.array([[0.25, 4.0]], np.float32)), (n, 1))
    out = to_numpy(keras, model_module.Sampling(seed=3)((mean, log_var)))
    np.testing.assert_allclose(out.mean(axis=0), [2.0, -1.0], atol=0.05)
    np.testing.assert_allclose(out.std(axis=0), [0.5, 2.0], rtol=0.03)


def test_sampling_same_seed_same_draws_different_seed_different_draws(
    keras, model_module
):
    """Two layers with one seed draw the same noise; another seed draws other noise."""
    mean = np.zeros((8, 4), np.float32)
    log_var = np.zeros_like(mean)
    a = to_numpy(keras, model_module.Sampling(seed=42)((mean, log_var)))
    b = to_numpy(keras, model_module.Sampling(seed=42)((mean, log_var)))
    c = to_numpy(keras, model_module.Sampling(seed=43)((mean, log_var)))
    np.testing.assert_array_equal(a, b)
    assert not np.allclose(a, c)


def test_sampling_draws_fresh_noise_on_each_call(keras, model_module):
    """Calling one layer twice gives two different draws (its seed state advances)."""
    layer = model_module.Sampling(seed=9)
    mean = np.zeros((8, 4), np.float32)
    first = to_numpy(keras, layer((mean, mean)))
    second = to_numpy(keras, layer((mean, mean)))
    assert not np.allclose(first, second)


def test_sampling_is_registered_and_config_round_trips(keras, model_module):
    """Sampling is registered as vaeapp>Sampling and its config keeps the seed."""
    cls = model_module.Sampling
    assert keras.saving.get_registered_object("vaeapp>Sampling") is cls
    layer = cls(seed=123, name="draw")
    config = layer.get_config()
    assert config["seed"] == 123
    clone = cls.from_config(config)
    assert isinstance(clone, cls) and clone.seed == 123 and clone.name == "draw"
    revived = keras.layers.deserialize(keras.layers.serialize(layer))
    assert type(revived) is cls and revived.seed == 123


@pytest.mark.parametrize(
    ("hidden", "latent"), [((256,), 2), ((512, 256), 2), ((16, 8, 8), 5)]
)
def test_parameter_count_matches_keras(model_module, hidden, latent):
    """model_layout.parameter_count equals the trainable parameters of the Keras VAE."""
    config = ModelConfig(hidden=hidden, latent_dim=latent)
    vae = model_module.VAE(config)
    trainable = sum(int(np.prod(v.shape)) for v in vae.trainable_variables)
    assert parameter_count(config) == trainable


def test_dropout_acts_in_training_only_and_numpy_matches_inference(
    keras, model_module, tmp_path
):
    """An encoder with input and hidden dropout is random in training,
    deterministic in inference, and its weights file (dropout has no weights)
    reads into NumPy with equal outputs."""
    from vaeapp.inference.numpy_vae import load_numpy_vae

    config = ModelConfig(hidden=(32, 16), latent_dim=2, dropout=0.5, input_dropout=0.3)
    vae = model_module.VAE(config, seed=0)
    x = np.random.default_rng(0).random((6, 784)).astype(np.float32)
    train_a = to_numpy(keras, vae.encoder(x, training=True)[0])
    train_b = to_numpy(keras, vae.encoder(x, training=True)[0])
    assert not np.allclose(train_a, train_b)
    mean = to_numpy(keras, vae.encoder(x, training=False)[0])
    np.testing.assert_array_equal(mean, to_numpy(keras, vae.encoder(x)[0]))
    path = tmp_path / "model.weights.h5"
    vae.save_weights(str(path))
    numpy_vae = load_numpy_vae(path, config)
    np.testing.assert_allclose(numpy_vae.encode(x)[0], mean, atol=1e-5)
    logits = to_numpy(keras, vae.decoder(mean, training=False))
    np.testing.assert_allclose(numpy_vae.decode_logits(mean), logits, atol=1e-4)


def test_decoder_widths_of_their_own_build_count_and_read_back(
    keras, model_module, tmp_path
):
    """A decoder with its own widths (not the encoder's mirror) has the layers
    model_layout counts, and NumPy reads its weights file with equal logits."""
    from vaeapp.inference.numpy_vae import load_numpy_vae

    config = ModelConfig(hidden=(24,), latent_dim=3, decoder_hidden=(8, 16, 40))
    vae = model_module.VAE(config, seed=0)
    trainable = sum(int(np.prod(v.shape)) for v in vae.trainable_variables)
    assert parameter_count(config) == trainable
    kernels = [w.shape for w in vae.decoder.weights if len(w.shape) == 2]
    assert kernels == [(3, 8), (8, 16), (16, 40), (40, 784)]
    path = tmp_path / "model.weights.h5"
    vae.save_weights(str(path))
    z = np.random.default_rng(1).normal(size=(5, 3)).astype(np.float32)
    logits = to_numpy(keras, vae.decoder(z))
    numpy_vae = load_numpy_vae(path, config)
    np.testing.assert_allclose(numpy_vae.decode_logits(z), logits, atol=1e-4)
    assert config.describe() == "784-24-3, decoder 3-8-16-40-784"
    assert ModelConfig.from_dict(config.to_dict()) == config


def test_dropout_is_written_only_when_set(model_module):
    """config.json gains the dropout rates only for a model with dropout; both
    round-trip."""
    plain = ModelConfig(hidden=(16,))
    dropped = ModelConfig(hidden=(16,), dropout=0.2, input_dropout=0.1)
    assert "dropout" not in plain.to_dict() and "input_dropout" not in plain.to_dict()
    assert dropped.to_dict()["dropout"] == 0.2
    assert dropped.to_dict()["input_dropout"] == 0.1
    for config in (plain, dropped):
        assert ModelConfig.from_dict(config.to_dict()) == config


def test_vae_call_shapes(keras, model_module):
    """VAE maps (b, 784) images to logits (b, 784), mean and log_var (b, d)."""
    vae = model_module.VAE(ModelConfig(hidden=(16,), latent_dim=3), seed=0)
    logits, mean, log_var = vae(np.zeros((5, 784), np.float32))
    assert tuple(logits.shape) == (5, 784)
    assert tuple(mean.shape) == (5, 3) and tuple(log_var.shape) == (5, 3)


def test_training_history_satisfies_neg_elbo_equals_recon_plus_kl(trained):
    """Per epoch, train and validation neg_elbo equal recon + kl within 1e-3."""
    history = trained((16,), 2).result.history
    assert len(history) == 2
    for row in history:
        for prefix in ("", "val_"):
            recon, kl = row[f"{prefix}recon"], row[f"{prefix}kl"]
            total = row[f"{prefix}neg_elbo"]
            assert all(math.isfinite(v) for v in (recon, kl, total))
            assert recon > 0 and kl >= 0
            assert total == pytest.approx(recon + kl, rel=1e-3)
        # with beta 1 and no warm-up the optimised loss is the negative ELBO
        assert row["kl_weight"] == 1.0
        assert row["loss"] == pytest.approx(row["neg_elbo"], rel=1e-3)


def test_test_metrics_satisfy_neg_elbo_equals_recon_plus_kl(trained):
    """The final test-set figures also satisfy neg_elbo == recon + kl."""
    metrics = trained((16,), 2).result.test_metrics
    assert metrics["test_neg_elbo"] == pytest.approx(
        metrics["test_recon"] + metrics["test_kl"], rel=1e-3
    )


def test_metrics_are_reset_between_epochs_and_for_validation(trained):
    """Epoch and validation figures differ: trackers are reset, not accumulated."""
    history = trained((16,), 2).result.history
    assert history[0]["recon"] != history[1]["recon"]
    assert history[0]["recon"] != history[0]["val_recon"]
    vae = trained((16,), 2).result.model
    names = {m.name for m in vae.metrics}
    assert {"recon", "kl", "neg_elbo"} <= names
