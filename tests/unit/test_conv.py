"""The convolutional architecture option: config, layout, Keras model and NumPy
inference (parity with Keras)."""

from __future__ import annotations

import json

import pytest

from vaeapp.config import (
    ARCHITECTURES,
    FILTERS_DEFAULT,
    PRESET_NAMES,
    ModelConfig,
)
from vaeapp.store import PRETRAINED_DIR, read_record

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
