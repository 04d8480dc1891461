"""The convolutional architecture option: config, layout, Keras model and NumPy
inference (parity with Keras)."""

from __future__ import annotations

import json

import h5py
import numpy as np
import pytest
from unit_helpers import spread_weights

from vaeapp.core.config import (
    ARCHITECTURES,
    FILTERS_DEFAULT,
    PRESET_NAMES,
    ModelConfig,
)
from vaeapp.inference.blocks import CONV_BLOCK
from vaeapp.inference.numpy_vae import Conv2D, ConvTranspose2D, load_numpy_vae, sigmoid
from vaeapp.inference.weights_file import WeightsError
from vaeapp.model.layout import (
    decoder_layers,
    encoder_layers,
    parameter_count,
    same_padding,
)
from vaeapp.store.format import PRETRAINED_DIR
from vaeapp.store.reading import read_record

TINY_CONV = ModelConfig(
    architecture="conv", filters=(4, 8), hidden=(16, 8), latent_dim=3
)
# Float32 sums in another order than TensorFlow's differ in the last bits; over
# at most a few hundred terms per output that stays well below this.
PARITY_TOL = 1e-5

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
            {"architecture": "conv", "filters": (8, 8, 8, 8, 8, 8)},
            r"filters must list 1 to 5 channel counts \(one per convolution layer\)",
        ),
        (
            {"architecture": "conv", "filters": (32, 64, 128)},
            "with 3 stride-2 stages needs image sides divisible by 8, got 28x28",
        ),
        ({"architecture": "conv", "filters": "32,64"}, "filters must list 1 to 5"),
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
    import vaeapp.model.vae

    return vaeapp.model.vae


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


@pytest.fixture(scope="module")
def keras_conv(model_module, tmp_path_factory):
    """A tiny conv VAE with spread-out random weights, and its saved weights file.

    Kernels are scaled up and biases made non-zero so that decoded pixels span
    (0, 1) instead of sitting near 0.5, which would make any parity test easy,
    and encoded means reach a few units, as a trained model's do.
    """
    vae = model_module.VAE(TINY_CONV, seed=0)
    spread_weights(vae, 1.5, 3.0)
    path = tmp_path_factory.mktemp("conv") / "model.weights.h5"
    vae.save_weights(str(path))
    return vae, path


def _keras_numpy(keras_tensor):
    import keras

    return np.asarray(keras.ops.convert_to_numpy(keras_tensor))


def test_numpy_conv_decoder_matches_keras(keras_conv):
    """NumPy decode of a conv model equals Keras's sigmoid(decoder) within 1e-5."""
    vae, path = keras_conv
    numpy_vae = load_numpy_vae(path, TINY_CONV)
    assert isinstance(numpy_vae.logits_head, ConvTranspose2D)
    z = np.random.default_rng(2).normal(0, 2, (3 * CONV_BLOCK + 5, 3))
    z = z.astype(np.float32)
    want = 1.0 / (1.0 + np.exp(-_keras_numpy(vae.decoder(z)).astype(np.float64)))
    got = numpy_vae.decode(z)
    assert got.shape == (z.shape[0], 784) and got.dtype == np.float32
    assert want.std() > 0.1  # the pixels really vary
    assert np.abs(got - want).max() < PARITY_TOL


def test_numpy_conv_encoder_matches_keras(keras_conv):
    """NumPy encode of a conv model equals Keras's mean and log_var within 1e-5."""
    vae, path = keras_conv
    numpy_vae = load_numpy_vae(path, TINY_CONV)
    assert isinstance(numpy_vae.encoder_hidden[0], Conv2D)
    x = np.random.default_rng(3).random((2 * CONV_BLOCK + 7, 784)).astype(np.float32)
    want_mean, want_log_var = (_keras_numpy(t) for t in vae.encoder(x))
    mean, log_var = numpy_vae.encode(x)
    assert mean.shape == log_var.shape == (x.shape[0], 3)
    assert np.abs(want_mean).max() > 1.0  # a scale at which 1e-5 means something
    assert np.abs(mean - want_mean).max() < PARITY_TOL
    assert np.abs(log_var - want_log_var).max() < PARITY_TOL


def test_conv_decode_of_one_point_equals_its_row_in_a_batch(keras_conv):
    """Decoding in blocks gives each point the same pixels as decoding it alone."""
    numpy_vae = load_numpy_vae(keras_conv[1], TINY_CONV)
    z = np.random.default_rng(4).normal(0, 1, (2 * CONV_BLOCK + 1, 3))
    batch = numpy_vae.decode(z)
    for i in (0, CONV_BLOCK, 2 * CONV_BLOCK):
        np.testing.assert_allclose(numpy_vae.decode(z[i]), batch[i : i + 1], atol=1e-6)


def test_conv_weights_read_against_other_filters_are_refused(keras_conv):
    """Reading a conv file with a config of other filters raises WeightsError."""
    other = ModelConfig(
        architecture="conv", filters=(4, 16), hidden=(16, 8), latent_dim=3
    )
    with pytest.raises(WeightsError, match=r"expected \(3, 3, 4, 16\)"):
        load_numpy_vae(keras_conv[1], other)
    with pytest.raises(WeightsError):
        load_numpy_vae(keras_conv[1], ModelConfig(hidden=(16, 8), latent_dim=3))


def test_non_finite_conv_kernel_is_refused(keras_conv, tmp_path):
    """A NaN in a transposed-conv kernel raises WeightsError naming its path."""
    path = tmp_path / "model.weights.h5"
    path.write_bytes(keras_conv[1].read_bytes())
    kernel = f"{decoder_layers(TINY_CONV)[-1].path}/vars/0"
    with h5py.File(path, "r+") as handle:
        values = handle[kernel][()]
        values[0, 0, 0, 0] = np.nan
        handle[kernel][...] = values
    with pytest.raises(WeightsError, match="conv2d_transpose_2/vars/0 holds NaN"):
        load_numpy_vae(path, TINY_CONV)


def test_conv_model_trains_publishes_and_loads(dataset, tmp_path):
    """A conv model trains, is published (checked by loading) and loads as conv."""
    from unit_helpers import tiny_train_config

    from vaeapp.store.reading import load_model
    from vaeapp.train.loop import train_model
    from vaeapp.train.publish import save_result

    config = ModelConfig(architecture="conv", filters=(2, 4), hidden=(8,))
    result = train_model(config, tiny_train_config(epochs=1), dataset, verbose=False)
    assert np.isfinite(result.test_metrics["test_neg_elbo"])
    loaded = load_model(save_result(result, tmp_path, "conv-model"))
    assert loaded.record.model == config
    mean, _ = loaded.vae.encode(dataset.x_test[:20])
    np.testing.assert_allclose(mean, loaded.latent_mean[:20], atol=PARITY_TOL)


def _configs(argv: str) -> ModelConfig:
    from vaeapp.train.command import build_parser, configs_from_args

    return configs_from_args(build_parser().parse_args(argv.split()))[0]


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        ("--preset conv", ModelConfig.preset("conv")),
        ("--architecture conv", ModelConfig(architecture="conv", hidden=(256,))),
        (
            "--preset deep --architecture conv --filters 8,16 --latent-dim 4",
            ModelConfig(
                architecture="conv", filters=(8, 16), hidden=(512, 256), latent_dim=4
            ),
        ),
        ("--preset conv --hidden 64", ModelConfig(architecture="conv", hidden=(64,))),
        ("--preset conv --architecture dense", ModelConfig(hidden=(256,))),
        ("", ModelConfig.preset("tutorial")),
    ],
)
def test_cli_builds_the_architecture_from_preset_and_options(argv, expected):
    """--preset conv, --architecture and --filters become the ModelConfig fields."""
    assert _configs(argv) == expected


def test_cli_refuses_filters_for_a_dense_model_and_bad_filter_text():
    """--filters with a dense model raises ValueError; non-numbers fail parsing."""
    import argparse

    from vaeapp.core.options import parse_filters

    with pytest.raises(ValueError, match="filters apply only to the conv"):
        _configs("--filters 8,16")
    with pytest.raises(ValueError, match="filters must list 1 to 5 channel counts"):
        _configs("--architecture conv --filters 8,8,8,8,8,8")
    with pytest.raises(argparse.ArgumentTypeError, match="filters must be comma-sep"):
        parse_filters("8,x")


def test_cli_help_documents_architecture_filters_and_presets():
    """--help lists --architecture {dense,conv}, --filters and every preset."""
    from vaeapp.train.command import build_parser

    text = " ".join(build_parser().format_help().split())
    text = text.replace("- ", "-")  # argparse may wrap a line after a hyphen
    assert "--architecture {dense,conv}" in text and "--filters FILTERS" in text
    assert "--preset {tutorial,deep,conv,conv-deep}" in text
    assert "conv: image-conv32-conv64-256-2" in text
    assert "deep: image-512-256-2" in text


def _decode_packed(packed: list[dict], z: np.ndarray) -> np.ndarray:
    """What decoder.js computes, in NumPy, from pack_decoder's layers."""
    import base64

    def array(text: str, dtype: str) -> np.ndarray:
        return np.frombuffer(base64.b64decode(text), dtype).astype(np.float32)

    h = np.atleast_2d(np.asarray(z, np.float32))
    for layer in packed:
        if layer["kind"] == "reshape":
            assert h.shape[1] == np.prod(layer["shape"])
            continue
        w, b = array(layer["w16"], "<f2"), array(layer["b"], "<f4")
        if layer["kind"] == "dense":
            h = h @ w.reshape(layer["n_in"], layer["n_out"]) + b
        else:
            (ih, iw, c), (oh, ow, co) = layer["in_shape"], layer["out_shape"]
            k, s, (top, left) = layer["kernel"], layer["stride"], layer["pad"]
            taps = np.einsum(
                "nyxc,cabo->nyxabo", h.reshape(-1, ih, iw, c), w.reshape(c, k, k, co)
            )
            full = np.zeros((h.shape[0], (ih - 1) * s + k, (iw - 1) * s + k, co))
            for a in range(k):
                for bb in range(k):
                    full[
                        :, a : a + (ih - 1) * s + 1 : s, bb : bb + (iw - 1) * s + 1 : s
                    ] += taps[:, :, :, a, bb]
            h = (full[:, top : top + oh, left : left + ow] + b).reshape(len(h), -1)
        h = sigmoid(h) if layer["activation"] == "sigmoid" else np.maximum(h, 0)
    return h


def test_packed_conv_decoder_layout_and_float16_accuracy(keras_conv):
    """Packed conv layers decode like float16 kernels (1e-5) and float32 (0.02)."""
    # 0.02, not 0.01: this fixture's kernels are inflated threefold per layer,
    # which amplifies the float16 rounding; the trained model is held to 0.01.
    from vaeapp.web.assets import as_browser_decodes, pack_decoder

    numpy_vae = load_numpy_vae(keras_conv[1], TINY_CONV)
    packed = pack_decoder(numpy_vae)
    kinds = ["dense"] * 3 + ["reshape"] + ["conv_transpose"] * 3
    assert [layer["kind"] for layer in packed] == kinds
    assert packed[3]["shape"] == [7, 7, 8]
    last = packed[-1]
    assert (last["in_shape"], last["out_shape"], last["stride"], last["pad"]) == (
        [28, 28, 4],
        [28, 28, 1],
        1,
        [1, 1],
    )
    assert (packed[4]["stride"], packed[4]["pad"], packed[4]["kernel"]) == (
        2,
        [0, 0],
        3,
    )
    activations = [layer.get("activation") for layer in packed if "w16" in layer]
    assert activations == ["relu"] * 5 + ["sigmoid"]
    json.dumps(packed)  # plain JSON, ready for the component
    z = np.random.default_rng(5).normal(0, 1.5, (50, 3)).astype(np.float32)
    got = _decode_packed(packed, z)
    assert np.abs(got - as_browser_decodes(numpy_vae).decode(z)).max() < 1e-5
    assert np.abs(got - numpy_vae.decode(z)).max() < 0.02


def test_packed_dense_decoder_keeps_its_fields():
    """Dense layers keep n_in, n_out, w16, b and gain kind and activation."""
    from vaeapp.web.assets import as_browser_decodes, pack_decoder

    folder = PRETRAINED_DIR / "mnist-deep"
    vae = load_numpy_vae(folder / "model.weights.h5", read_record(folder).model)
    packed = pack_decoder(vae)
    fields = {"kind", "n_in", "n_out", "w16", "b", "activation"}
    assert [set(layer) for layer in packed] == [fields] * 3
    shapes = [(layer["n_in"], layer["n_out"]) for layer in packed]
    assert shapes == [(2, 256), (256, 512), (512, 784)]
    z = np.random.default_rng(6).normal(0, 1, (50, 2)).astype(np.float32)
    got = _decode_packed(packed, z)
    assert np.abs(got - as_browser_decodes(vae).decode(z)).max() < 1e-5
    assert np.abs(got - vae.decode(z)).max() < 0.01


def test_shipped_conv_model_matches_its_keras_latents_and_packs_within_001():
    """mnist-conv loads as conv; NumPy encodes like Keras did; float16 within 0.01."""
    from vaeapp.store.reading import load_model
    from vaeapp.web.assets import pack_decoder

    model = load_model(PRETRAINED_DIR / "mnist-conv")
    assert model.record.model == ModelConfig.preset("conv")
    assert model.test_images is not None
    # latents.npz holds the Keras encoder's means of the shipped test images
    x = model.test_images[:500].astype(np.float32) / np.float32(255)
    mean, _ = model.vae.encode(x)
    assert np.abs(mean - model.latent_mean[:500]).max() < PARITY_TOL
    z = np.random.default_rng(7).normal(0, 1, (100, 2)).astype(np.float32)
    got = _decode_packed(pack_decoder(model.vae), z)
    assert np.abs(got - model.vae.decode(z)).max() < 0.01
