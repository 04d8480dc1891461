"""Images of any shape up to 64x64 (dense) or 128x128 (conv), grey or
colour: the layout, the Keras model and the NumPy encoder and decoder (parity
with Keras) for dense and conv."""

from __future__ import annotations

import numpy as np
import pytest
from unit_helpers import spread_weights

from vaeapp.core.config import MNIST_SHAPE, ModelConfig
from vaeapp.inference.blocks import CONV_BLOCK
from vaeapp.inference.numpy_vae import load_numpy_vae
from vaeapp.model.layout import (
    conv_inner_shape,
    decoder_layers,
    encoder_layers,
    parameter_count,
)

PARITY_TOL = 1e-5

# (image shape, architecture): grey and colour, square and not, both kinds.
SHAPES = [
    ((28, 28, 1), "dense"),
    ((28, 28, 1), "conv"),
    ((32, 32, 3), "dense"),
    ((32, 32, 3), "conv"),
    ((64, 64, 3), "conv"),
    ((128, 128, 3), "conv"),
    ((16, 24, 1), "dense"),
    ((20, 12, 3), "conv"),
]


def small_config(shape: tuple[int, int, int], architecture: str) -> ModelConfig:
    if architecture == "conv":
        return ModelConfig(
            architecture="conv",
            filters=(4, 8),
            hidden=(16,),
            latent_dim=3,
            image_shape=shape,
        )
    return ModelConfig(hidden=(32, 16), latent_dim=3, image_shape=shape)


def shape_id(case: tuple[tuple[int, int, int], str]) -> str:
    (h, w, c), architecture = case
    return f"{h}x{w}x{c}-{architecture}"


@pytest.fixture(scope="module")
def model_module():
    import vaeapp.model.vae

    return vaeapp.model.vae


@pytest.fixture(scope="module", params=SHAPES, ids=shape_id)
def keras_model(request, model_module, tmp_path_factory):
    """A small Keras VAE of one shape with spread-out random weights, saved.

    Kernels are scaled up and biases made non-zero so that decoded pixels span
    (0, 1) and encoded means reach a few units: a 1e-5 bound then means
    something.
    """
    config = small_config(*request.param)
    vae = model_module.VAE(config, seed=0)
    spread_weights(vae, 1.5, 2.5)
    path = tmp_path_factory.mktemp("shape") / "model.weights.h5"
    vae.save_weights(str(path))
    return config, vae, path


def _numpy(tensor):
    import keras

    return np.asarray(keras.ops.convert_to_numpy(tensor), np.float64)


def test_keras_model_maps_flat_images_of_its_shape(keras_model):
    """The VAE takes (b, H*W*C) images and gives logits (b, H*W*C), z stats (b, d)."""
    config, vae, _ = keras_model
    n_pixels = int(np.prod(config.image_shape))
    assert config.n_pixels == n_pixels
    logits, mean, log_var = vae(np.zeros((3, n_pixels), np.float32))
    assert tuple(logits.shape) == (3, n_pixels)
    assert tuple(mean.shape) == tuple(log_var.shape) == (3, 3)
    trainable = sum(int(np.prod(v.shape)) for v in vae.trainable_variables)
    assert parameter_count(config) == trainable


def test_numpy_decoder_matches_keras(keras_model):
    """NumPy decode equals Keras's sigmoid(decoder) within 1e-5 for this shape."""
    config, vae, path = keras_model
    numpy_vae = load_numpy_vae(path, config)
    z = np.random.default_rng(2).normal(0, 1.5, (CONV_BLOCK + 3, 3))
    z = z.astype(np.float32)
    want = 1.0 / (1.0 + np.exp(-_numpy(vae.decoder(z))))
    got = numpy_vae.decode(z)
    assert got.shape == (z.shape[0], config.n_pixels) and got.dtype == np.float32
    assert want.std() > 0.1  # the pixels really vary
    assert np.abs(got - want).max() < PARITY_TOL
    images = numpy_vae.decode_images(z)
    assert images.shape == (z.shape[0], *config.image_shape)
    np.testing.assert_array_equal(images.reshape(z.shape[0], -1), got)


def test_numpy_encoder_matches_keras(keras_model):
    """NumPy encode equals Keras's mean and log_var within 1e-5 for this shape,
    from flat images and from (n, H, W, C) arrays alike."""
    config, vae, path = keras_model
    numpy_vae = load_numpy_vae(path, config)
    rng = np.random.default_rng(3)
    x = rng.random((CONV_BLOCK + 5, config.n_pixels)).astype(np.float32)
    want_mean, want_log_var = (_numpy(t) for t in vae.encoder(x))
    mean, log_var = numpy_vae.encode(x)
    assert mean.shape == log_var.shape == (x.shape[0], 3)
    assert np.abs(want_mean).max() > 0.5  # a scale at which 1e-5 means something
    assert np.abs(mean - want_mean).max() < PARITY_TOL
    assert np.abs(log_var - want_log_var).max() < PARITY_TOL
    mean_4d, _ = numpy_vae.encode(x.reshape(-1, *config.image_shape))
    np.testing.assert_array_equal(mean_4d, mean)


@pytest.mark.parametrize(
    ("shape", "inner", "maps"),
    [
        ((32, 32, 3), (8, 8, 8), [(16, 16, 8), (32, 32, 4), (32, 32, 3)]),
        ((64, 64, 3), (16, 16, 8), [(32, 32, 8), (64, 64, 4), (64, 64, 3)]),
        ((20, 12, 3), (5, 3, 8), [(10, 6, 8), (20, 12, 4), (20, 12, 3)]),
        ((8, 64, 1), (2, 16, 8), [(4, 32, 8), (8, 64, 4), (8, 64, 1)]),
    ],
)
def test_conv_layout_halves_each_side_twice_and_ends_in_image_channels(
    shape, inner, maps
):
    """A conv model maps H x W -> H/2 x W/2 -> H/4 x W/4 and back to H x W x C."""
    config = small_config(shape, "conv")
    assert conv_inner_shape(config) == inner
    enc, dec = encoder_layers(config), decoder_layers(config)
    assert enc[0].in_shape == shape and enc[1].out_shape == inner
    assert enc[2].n_in == int(np.prod(inner))
    assert dec[-4].n_out == int(np.prod(inner)) and dec[-3].in_shape == inner
    assert [s.out_shape for s in dec[-3:]] == maps
    assert dec[-1].n_out == config.n_pixels


def test_mnist_layout_is_unchanged_by_the_image_shape_option():
    """With MNIST's shape the layouts are the 784-pixel, 7x7 ones shipped models use."""
    assert ModelConfig().image_shape == MNIST_SHAPE
    conv = ModelConfig.preset("conv")
    assert conv_inner_shape(conv) == (7, 7, 64)
    assert encoder_layers(conv)[0].in_shape == (28, 28, 1)
    assert decoder_layers(conv)[-1].out_shape == (28, 28, 1)
    assert decoder_layers(ModelConfig())[-1].kernel_shape == (256, 784)


def test_colour_conv_model_trains_on_chunks(model_module):
    """A colour conv VAE takes an optimizer step per batch of a chunk (batches.py)
    with a finite loss that equals recon + KL, summed over all H*W*C values."""
    import keras

    from vaeapp.train.batches import ShuffledChunks

    config = small_config((16, 12, 3), "conv")
    vae = model_module.VAE(config, seed=0)
    vae.compile(optimizer=keras.optimizers.Adam(1e-3), jit_compile=False)
    x = np.random.default_rng(4).random((40, config.n_pixels)).astype(np.float32)
    chunks = ShuffledChunks(x, batch_size=10, steps_per_chunk=2, seed=0)
    assert chunks[0].shape == (2, 10, config.n_pixels)
    history = vae.fit(chunks, epochs=1, verbose=0).history
    recon, kl = history["recon"][-1], history["kl"][-1]
    assert np.isfinite(history["loss"][-1])
    assert history["neg_elbo"][-1] == pytest.approx(recon + kl, rel=1e-4)
    # about log 2 nats per value for an untrained model: a sum, not a mean
    assert recon > 0.3 * config.n_pixels


def test_decode_in_threads_equals_decode_in_one_thread(keras_model, monkeypatch):
    """Blocks of images decoded by the thread pool give exactly the pixels of
    one thread, in the same row order."""
    from vaeapp.inference import blocks

    config, _, path = keras_model
    if config.architecture != "conv":
        pytest.skip("a dense model runs no blocks of images")
    numpy_vae = load_numpy_vae(path, config)
    z = np.random.default_rng(5).normal(0, 1, (4 * CONV_BLOCK + 3, 3))
    monkeypatch.setattr(blocks, "BLOCK_THREADS", 1)
    alone = numpy_vae.decode(z)
    monkeypatch.setattr(blocks, "BLOCK_THREADS", 2)
    np.testing.assert_array_equal(numpy_vae.decode(z), alone)
    x = np.random.default_rng(6).random((3 * CONV_BLOCK + 1, config.n_pixels))
    monkeypatch.setattr(blocks, "BLOCK_THREADS", 1)
    mean_alone, _ = numpy_vae.encode(x)
    monkeypatch.setattr(blocks, "BLOCK_THREADS", 2)
    np.testing.assert_array_equal(numpy_vae.encode(x)[0], mean_alone)
