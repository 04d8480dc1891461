"""The size-aware conv preset (conv-deep) for 32x32 and 64x64 colour images:
its stride-2 stages grow with the image size, its Keras model builds at both
sizes, and the NumPy decoder and encoder match Keras's on it."""

from __future__ import annotations

import json

import numpy as np
import pytest
from unit_helpers import spread_weights

from vaeapp.core.config import (
    CONV_PRESETS,
    FILTERS_DEFAULT,
    PRESET_NAMES,
    ModelConfig,
    growing_filters,
    preset_summary,
)
from vaeapp.inference.blocks import CONV_BLOCK
from vaeapp.inference.numpy_vae import ConvTranspose2D, load_numpy_vae
from vaeapp.model.layout import conv_inner_shape, decoder_layers, encoder_layers
from vaeapp.web.assets import pack_decoder

# As in test_conv: float32 sums in another order than TensorFlow's differ in
# the last bits; a 64x64 decoder sums up to 3 x 3 x 256 terms per output.
PARITY_TOL = 1e-5


def test_conv_deep_is_offered_as_a_preset():
    """conv-deep is a conv preset with empty (size-aware) filters, named in
    the presets the command and the form offer, and in the --help summary."""
    assert "conv-deep" in PRESET_NAMES and CONV_PRESETS["conv-deep"][0] == ()
    config = ModelConfig.preset("conv-deep", image_shape=(32, 32, 3))
    assert config.architecture == "conv" and config.filters == ()
    assert config.preset_name == "conv-deep"
    summary = preset_summary()
    assert "conv-deep: image-convs-256-2" in summary
    assert "conv32-conv64-conv128-conv256 at 64 px" in summary


@pytest.mark.parametrize(
    ("side", "filters", "inner"),
    [
        (8, (32,), 4),
        (28, FILTERS_DEFAULT, 7),  # the conv preset's layers on MNIST
        (32, (32, 64, 128), 4),
        (48, (32, 64, 128), 6),
        (64, (32, 64, 128, 256), 4),
    ],
)
def test_stages_and_channels_grow_with_the_image_size(side, filters, inner):
    """One more stride-2 stage (channels doubled) per doubling of the side,
    down to an innermost map of 4 to 7 pixels a side."""
    assert growing_filters(side, side) == filters
    config = ModelConfig.preset("conv-deep", image_shape=(side, side, 3))
    assert config.conv_filters == filters
    assert conv_inner_shape(config) == (inner, inner, filters[-1])
    convs = [s for s in encoder_layers(config) if s.kind == "conv"]
    deconvs = [s for s in decoder_layers(config) if s.kind == "conv_transpose"]
    assert len(convs) == len(filters) and len(deconvs) == len(filters) + 1
    assert deconvs[-1].out_shape == (side, side, 3)


def test_layers_grow_from_32_to_64_pixels():
    """The 64x64 model has more convolution layers and channels than the
    32x32 one; the conv preset keeps two stages at every size."""
    small = ModelConfig.preset("conv-deep", image_shape=(32, 32, 3))
    large = ModelConfig.preset("conv-deep", image_shape=(64, 64, 3))
    assert len(large.conv_filters) == len(small.conv_filters) + 1
    assert max(large.conv_filters) > max(small.conv_filters)
    for shape in ((32, 32, 3), (64, 64, 3)):
        assert ModelConfig.preset("conv", image_shape=shape).conv_filters == (32, 64)


def test_a_folder_stores_the_filters_it_was_built_with():
    """to_dict writes a size-aware model's filters as numbers, and the config
    read back builds the same layers and is still named conv-deep."""
    config = ModelConfig.preset("conv-deep", image_shape=(64, 64, 3))
    data = json.loads(json.dumps(config.to_dict()))
    assert data["filters"] == [32, 64, 128, 256]
    back = ModelConfig.from_dict(data)
    assert back.conv_filters == config.conv_filters
    assert back.preset_name == "conv-deep"
    assert decoder_layers(back) == decoder_layers(config)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        (
            {"architecture": "conv", "filters": (), "image_shape": (9, 9, 1)},
            "a size-aware conv model .* needs image sides divisible by 2",
        ),
        (
            {"architecture": "conv", "filters": (8, 8, 8), "image_shape": (28, 28, 1)},
            "3 stride-2 stages needs image sides divisible by 8, got 28x28",
        ),
        ({"filters": ()}, "filters apply only to the conv architecture"),
    ],
)
def test_sizes_the_stages_cannot_halve_are_refused(kwargs, message):
    """Images the stages cannot halve, and empty filters on a dense model,
    raise ValueError saying why."""
    with pytest.raises(ValueError, match=message):
        ModelConfig(**kwargs)


@pytest.fixture(scope="module", params=[(32, 32, 3), (64, 64, 3)], ids=str)
def keras_colour(request, tmp_path_factory):
    """conv-deep (with a small dense layer, latent size 3) for colour images of
    the given shape, with spread-out random weights, and its weights file."""
    import vaeapp.model.vae as model_module  # Keras: imported by the tests that use it

    config = ModelConfig.preset(
        "conv-deep", hidden=(16,), latent_dim=3, image_shape=request.param
    )
    vae = model_module.VAE(config, seed=0)
    spread_weights(vae, 2.0, 2.0)
    path = tmp_path_factory.mktemp("colour") / "model.weights.h5"
    vae.save_weights(str(path))
    return config, vae, path


def test_numpy_decoder_matches_keras_at_32_and_64_pixels(keras_colour):
    """NumPy decode of conv-deep equals Keras's sigmoid(decoder) within 1e-5,
    over more than one block of images."""
    import keras

    config, vae, path = keras_colour
    numpy_vae = load_numpy_vae(path, config)
    assert isinstance(numpy_vae.logits_head, ConvTranspose2D)
    z = np.random.default_rng(2).normal(0, 2, (CONV_BLOCK + 3, 3)).astype(np.float32)
    logits = keras.ops.convert_to_numpy(vae.decoder(z)).astype(np.float64)
    want = 1.0 / (1.0 + np.exp(-logits))
    got = numpy_vae.decode(z)
    assert got.shape == (z.shape[0], config.n_pixels) and got.dtype == np.float32
    assert want.std() > 0.1  # the pixels really vary
    assert np.abs(got - want).max() < PARITY_TOL


def test_numpy_encoder_matches_keras_at_32_and_64_pixels(keras_colour):
    """NumPy encode of conv-deep equals Keras's mean and log_var within 1e-5."""
    import keras

    config, vae, path = keras_colour
    numpy_vae = load_numpy_vae(path, config)
    x = np.random.default_rng(3).random((CONV_BLOCK + 3, config.n_pixels))
    x = x.astype(np.float32)
    want_mean, want_log_var = (keras.ops.convert_to_numpy(t) for t in vae.encoder(x))
    mean, log_var = numpy_vae.encode(x)
    assert np.abs(want_mean).max() > 1.0  # a scale at which 1e-5 means something
    assert np.abs(mean - want_mean).max() < PARITY_TOL
    assert np.abs(log_var - want_log_var).max() < PARITY_TOL


def test_browser_gets_every_stage(keras_colour):
    """pack_decoder sends the browser one reshape, a transposed convolution per
    stage and the last one giving the image's channels."""
    config, _, path = keras_colour
    packed = pack_decoder(load_numpy_vae(path, config))
    kinds = [layer["kind"] for layer in packed]
    stages = len(config.conv_filters)
    assert kinds[-(stages + 2) :] == ["reshape"] + ["conv_transpose"] * (stages + 1)
    assert packed[-1]["out_shape"] == list(config.image_shape)
