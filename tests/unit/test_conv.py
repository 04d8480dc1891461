"""The convolutional architecture option: config, layout, Keras model and NumPy
inference (parity with Keras)."""

from __future__ import annotations

import json

import h5py
import numpy as np
import pytest

from vaeapp.config import (
    ARCHITECTURES,
    FILTERS_DEFAULT,
    PRESET_NAMES,
    ModelConfig,
)
from vaeapp.model_layout import (
    decoder_layers,
    encoder_layers,
    parameter_count,
    same_padding,
)
from vaeapp.store import PRETRAINED_DIR, read_record

TINY_CONV = ModelConfig(
    architecture="conv", filters=(4, 8), hidden=(16, 8), latent_dim=3
)

SHIPPED = ("mnist-tutorial", "mnist-deep", "fashion-tutorial")


def test_architecture_defaults_to_dense():
    """A ModelConfig without an architecture is the dense one with default filters."""
    config = ModelConfig()
    assert config.architecture == "dense" and config.filters == FILTERS_DEFAULT
    assert ARCHITECTURES == ("dense", "conv")


def test_conv_preset_is_the_keras_example_layout_with_256_hidden():
    """The conv preset: conv architecture, filters (32, 64), one 256 hidden layer."""
    config = ModelConfig.preset("conv")
    assert (config.architecture, config.filters, config.hidden) == (
        "conv",
        (32, 64),
        (256,),
    )
    assert config.preset_name == "conv"
    assert "conv" in PRESET_NAMES and "tutorial" in PRESET_NAMES
    assert ModelConfig.preset("conv", latent_dim=5).latent_dim == 5


@pytest.mark.parametrize(
    ("config", "text"),
    [
        (ModelConfig.preset("conv"), "784-conv32-conv64-256-2 (conv)"),
        (
            ModelConfig(architecture="conv", filters=(8, 16), hidden=(64,)),
            "784-conv8-conv16-64-2",
        ),
        (
            ModelConfig(architecture="conv", hidden=(512, 256)),
            "784-conv32-conv64-512-256-2",
        ),
        (ModelConfig(hidden=(256,)), "784-256-2 (tutorial)"),
    ],
)
def test_describe_names_conv_layers(config, text):
    """describe() lists conv filters before the dense widths; presets are named."""
    assert config.describe() == text


@pytest.mark.parametrize(
    "config",
    [
        ModelConfig.preset("conv"),
        ModelConfig(architecture="conv", filters=(1, 256), hidden=(8,), latent_dim=32),
        ModelConfig.preset("deep"),
    ],
)
def test_json_round_trip_keeps_architecture_and_filters(config):
    """to_dict -> JSON -> from_dict gives back an equal config, filters included."""
    data = json.loads(json.dumps(config.to_dict()))
    assert data["architecture"] == config.architecture
    assert ("filters" in data) == (config.architecture == "conv")
    assert ModelConfig.from_dict(data) == config


def test_json_without_architecture_loads_as_dense():
    """A config written before the option existed (no architecture key) is dense."""
    config = ModelConfig.from_dict({"hidden": [512, 256], "latent_dim": 2, "beta": 1.0})
    assert config == ModelConfig.preset("deep") and config.architecture == "dense"


@pytest.mark.parametrize("name", SHIPPED)
def test_shipped_model_configs_still_load_as_dense(name):
    """The shipped folders' config.json (no architecture key) read as dense models."""
    record = read_record(PRETRAINED_DIR / name)
    assert record.model.architecture == "dense"
    assert record.model.describe().startswith("784-")


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"architecture": "cnn"}, "architecture must be one of dense, conv; got 'cnn'"),
        ({"architecture": None}, "architecture must be one of dense, conv"),
        (
            {"architecture": "conv", "filters": (32,)},
            r"filters must list 2 channel counts \(one per convolution layer\)",
        ),
        (
            {"architecture": "conv", "filters": (32, 64, 128)},
            "filters must list 2 channel counts",
        ),
        ({"architecture": "conv", "filters": "32,64"}, "filters must list 2"),
        (
            {"architecture": "conv", "filters": (0, 64)},
            "filter count must be between 1 and 256, got 0",
        ),
        (
            {"architecture": "conv", "filters": (32, 257)},
            "filter count must be between 1 and 256, got 257",
        ),
        (
            {"architecture": "conv", "filters": (32.0, 64)},
            "filter count must be a whole number",
        ),
        (
            {"filters": (16, 32)},
            "filters apply only to the conv architecture",
        ),
    ],
)
def test_bad_architecture_or_filters_are_refused(kwargs, message):
    """Unknown architectures and bad filter lists raise ValueError saying why."""
    with pytest.raises(ValueError, match=message):
        ModelConfig(**kwargs)


def test_filters_given_as_list_are_stored_as_tuple():
    """A JSON-style list of filters becomes a tuple, so configs compare equal."""
    assert ModelConfig(architecture="conv", filters=[32, 64]) == ModelConfig(
        architecture="conv"
    )


@pytest.fixture(scope="module")
def model_module():
    import vaeapp.model

    return vaeapp.model


@pytest.mark.parametrize(
    ("size", "stride", "expected"),
    [(28, 2, (14, 0)), (14, 2, (7, 0)), (28, 1, (28, 1))],
)
def test_same_padding_matches_tensorflow_rule(size, stride, expected):
    """'same' output is ceil(size / stride); the smaller padding half goes first."""
    assert same_padding(size, 3, stride) == expected


def test_conv_layout_shapes_chain_from_image_to_latent_and_back():
    """Conv layers map 28x28x1 -> 14x14 -> 7x7 and the decoder back to 784 logits."""
    enc, dec = encoder_layers(TINY_CONV), decoder_layers(TINY_CONV)
    assert [s.kind for s in enc] == ["conv", "conv", "dense", "dense", "dense", "dense"]
    assert enc[0].in_shape == (28, 28, 1) and enc[1].out_shape == (7, 7, 8)
    assert enc[2].n_in == 7 * 7 * 8
    assert [s.kind for s in dec] == ["dense"] * 3 + ["conv_transpose"] * 3
    assert dec[2].n_out == dec[3].n_in == 7 * 7 * 8
    assert [s.out_shape for s in dec[3:]] == [(14, 14, 8), (28, 28, 4), (28, 28, 1)]
    assert dec[-1].n_out == 784
    for specs in (enc, dec):
        for a, b in zip(specs[:-2], specs[1:-1], strict=True):
            assert a.n_out == b.n_in


@pytest.mark.parametrize(
    "config", [TINY_CONV, ModelConfig.preset("conv"), ModelConfig.preset("deep")]
)
def test_layout_lists_exactly_the_arrays_keras_saves(model_module, tmp_path, config):
    """Every kernel and bias in a saved .weights.h5 is at the listed path and shape."""
    vae = model_module.VAE(config)
    path = tmp_path / "m.weights.h5"
    vae.save_weights(str(path))
    found = {}
    with h5py.File(path, "r") as handle:
        for part in ("encoder", "decoder"):
            handle[part].visititems(
                lambda name, item, part=part: (
                    found.__setitem__(f"{part}/{name}", item.shape)
                    if isinstance(item, h5py.Dataset)
                    else None
                )
            )
    expected = {}
    for spec in encoder_layers(config) + decoder_layers(config):
        expected[f"{spec.path}/vars/0"] = spec.kernel_shape
        expected[f"{spec.path}/vars/1"] = spec.bias_shape
    assert found == expected
    trainable = sum(int(np.prod(v.shape)) for v in vae.trainable_variables)
    assert parameter_count(config) == trainable


def test_conv_vae_keeps_the_flat_interface(model_module):
    """A conv VAE maps (b, 784) images to logits (b, 784) and mean, log_var (b, d)."""
    vae = model_module.VAE(TINY_CONV, seed=0)
    logits, mean, log_var = vae(np.zeros((5, 784), np.float32))
    assert tuple(logits.shape) == (5, 784)
    assert tuple(mean.shape) == (5, 3) and tuple(log_var.shape) == (5, 3)
    names = [layer.name for layer in vae.decoder.layers]
    assert names[-1] == model_module.LOGITS_LAYER
    assert model_module.decoder_conv_name(0) in names
