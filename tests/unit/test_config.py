"""Model and training settings: presets, descriptions, JSON and validation."""

from __future__ import annotations

import json
import math

import pytest

from vaeapp.core.config import (
    LR_MAX,
    LR_MIN,
    PRESETS,
    ModelConfig,
    TrainConfig,
    parse_widths,
)


def test_presets_have_the_documented_hidden_widths():
    """The tutorial preset is one 256 layer, the deep preset 512 then 256."""
    assert PRESETS == {"tutorial": (256,), "deep": (512, 256)}
    assert ModelConfig.preset("tutorial").hidden == (256,)
    assert ModelConfig.preset("deep").hidden == (512, 256)
    assert ModelConfig().hidden == (256,) and ModelConfig().latent_dim == 2


def test_preset_accepts_overrides_and_refuses_unknown_names():
    """preset() applies overrides and rejects a name that is not a preset."""
    config = ModelConfig.preset("deep", latent_dim=5, beta=0.5)
    assert (config.hidden, config.latent_dim, config.beta) == ((512, 256), 5, 0.5)
    with pytest.raises(ValueError, match="preset must be one of tutorial, deep"):
        ModelConfig.preset("huge")


@pytest.mark.parametrize(
    ("config", "text", "preset"),
    [
        (ModelConfig.preset("tutorial"), "784-256-2 (tutorial)", "tutorial"),
        (ModelConfig.preset("deep"), "784-512-256-2 (deep)", "deep"),
        (ModelConfig(hidden=(64, 32), latent_dim=5), "784-64-32-5", None),
    ],
)
def test_describe_names_layers_and_preset(config, text, preset):
    """describe() lists the layer widths and names a matching preset."""
    assert config.describe() == text
    assert config.preset_name == preset


def test_hidden_given_as_list_is_stored_as_tuple():
    """A JSON-style list of widths becomes a tuple, so configs compare equal."""
    assert ModelConfig(hidden=[512, 256]) == ModelConfig.preset("deep")


@pytest.mark.parametrize(
    "config",
    [
        ModelConfig(),
        ModelConfig(hidden=(512, 256, 128, 64), latent_dim=32, beta=100.0),
        ModelConfig(hidden=(8,), latent_dim=2, beta=0.0),
    ],
)
def test_model_config_json_round_trip(config):
    """to_dict -> JSON text -> from_dict gives back an equal ModelConfig."""
    data = json.loads(json.dumps(config.to_dict()))
    assert data["hidden"] == list(config.hidden)
    assert ModelConfig.from_dict(data) == config


@pytest.mark.parametrize(
    "config",
    [
        TrainConfig(),
        TrainConfig(
            epochs=3,
            batch_size=7,
            learning_rate=1.0,
            optimizer="sgd",
            schedule="constant",
            final_lr_fraction=0.0,
            kl_warmup=2,
            train_size=10,
            seed=2**31 - 1,
            dataset="fashion_mnist",
            steps_per_execution=5,
            jit_compile=False,
            grid_size=0,
        ),
    ],
)
def test_train_config_json_round_trip(config):
    """to_dict -> JSON text -> from_dict gives back an equal TrainConfig."""
    data = json.loads(json.dumps(config.to_dict()))
    assert TrainConfig.from_dict(data) == config


@pytest.mark.parametrize("latent", [0, 1, 33, 10**4, -2])
def test_latent_size_out_of_range_is_refused(latent):
    """Latent sizes outside 2..32 raise ValueError naming the allowed range."""
    with pytest.raises(
        ValueError, match=rf"latent size must be between 2 and 32, got {latent}"
    ):
        ModelConfig(latent_dim=latent)


@pytest.mark.parametrize("latent", [2, 32])
def test_latent_size_limits_are_inclusive(latent):
    """Latent sizes 2 and 32 are accepted."""
    assert ModelConfig(latent_dim=latent).latent_dim == latent


@pytest.mark.parametrize(
    ("hidden", "message"),
    [
        ((), "hidden must list 1 to 4 layer widths"),
        ((16,) * 5, "hidden must list 1 to 4 layer widths"),
        ((7,), "hidden width must be between 8 and 4096, got 7"),
        ((4097,), "hidden width must be between 8 and 4096, got 4097"),
        ("256", "hidden must list 1 to 4 layer widths"),
        ((16.0,), "hidden width must be a whole number"),
    ],
)
def test_bad_hidden_widths_are_refused(hidden, message):
    """Empty, too deep, too narrow, too wide or non-integer hidden layers fail."""
    with pytest.raises(ValueError, match=message):
        ModelConfig(hidden=hidden)


@pytest.mark.parametrize("beta", [-0.1, 100.5, math.nan, math.inf])
def test_beta_out_of_range_is_refused(beta):
    """beta must be a finite number in [0, 100]."""
    with pytest.raises(ValueError, match=r"beta must be in \[0.0, 100.0\]"):
        ModelConfig(beta=beta)


@pytest.mark.parametrize("epochs", [0, -1, 10_001])
def test_epochs_out_of_range_is_refused(epochs):
    """Epoch counts outside 1..10000 raise ValueError."""
    with pytest.raises(
        ValueError, match=rf"epochs must be between 1 and 10000, got {epochs}"
    ):
        TrainConfig(epochs=epochs)


@pytest.mark.parametrize("batch", [0, -5, 60_001])
def test_batch_size_out_of_range_is_refused(batch):
    """Batch sizes outside 1..60000 raise ValueError."""
    with pytest.raises(
        ValueError, match=rf"batch size must be between 1 and 60000, got {batch}"
    ):
        TrainConfig(batch_size=batch)


@pytest.mark.parametrize(
    "rate", [0, 0.0, 9.9e-7, -1e-3, LR_MAX * 1.01, 1e7, math.nan, math.inf]
)
def test_learning_rate_out_of_range_is_refused(rate):
    """Learning rates outside [LR_MIN, LR_MAX] (or not finite) raise ValueError."""
    with pytest.raises(
        ValueError, match=rf"learning rate must be in \[{LR_MIN}, {LR_MAX}\], got"
    ):
        TrainConfig(learning_rate=rate)


def test_learning_rate_limits():
    """The documented limits: 1e-6 to 1e6, so a diverging rate reaches the NaN stop."""
    assert (LR_MIN, LR_MAX) == (1e-6, 1e6)


@pytest.mark.parametrize("rate", [1e-6, 1.0, 1, 1e6])
def test_learning_rate_limits_are_inclusive(rate):
    """Learning rates 1e-6, 1 and 1e6 are accepted and stored as float."""
    config = TrainConfig(learning_rate=rate)
    assert config.learning_rate == float(rate)
    assert isinstance(config.learning_rate, float)


def test_parse_widths():
    """'512, 256' parses to (512, 256); non-numbers raise ValueError."""
    assert parse_widths("512, 256") == (512, 256)
    assert parse_widths("16,") == (16,)
    assert parse_widths("") == ()
    with pytest.raises(ValueError, match="hidden widths must be comma-separated"):
        parse_widths("16,abc")
    with pytest.raises(ValueError, match="hidden widths must be comma-separated"):
        parse_widths("1.5")


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("optimizer", "adagrad", "optimizer must be one of adam, adamw, rmsprop, sgd"),
        ("schedule", "step", "schedule must be one of constant, cosine"),
        ("dataset", "../cifar", "dataset must be one of mnist, fashion_mnist, shapes"),
        ("final_lr_fraction", 1.5, r"final learning-rate fraction must be in \[0, 1\]"),
        ("kl_warmup", -1, "KL warm-up epochs must be between 0 and 10000"),
        ("train_size", 60_001, "training-set size must be between 0 and 60000"),
        ("seed", -1, "seed must be between 0 and 2147483647"),
        ("seed", 2**31, "seed must be between 0 and 2147483647"),
        (
            "steps_per_execution",
            -1,
            "steps per execution must be between 0 and 1000000",
        ),
        ("grid_size", 31, "grid size must be between 0 and 30"),
    ],
)
def test_other_train_settings_out_of_range_are_refused(field, value, message):
    """Each training setting outside its documented range raises ValueError."""
    with pytest.raises(ValueError, match=message):
        TrainConfig(**{field: value})


@pytest.mark.parametrize(
    ("cls", "kwargs", "message"),
    [
        (
            ModelConfig,
            {"latent_dim": "2"},
            "latent size must be a whole number, got '2'",
        ),
        (ModelConfig, {"latent_dim": 2.0}, "latent size must be a whole number"),
        (
            ModelConfig,
            {"latent_dim": True},
            "latent size must be a whole number, got True",
        ),
        (ModelConfig, {"beta": "1"}, "beta must be a number, got '1'"),
        (TrainConfig, {"epochs": 1.5}, "epochs must be a whole number"),
        (
            TrainConfig,
            {"batch_size": None},
            "batch size must be a whole number, got None",
        ),
        (TrainConfig, {"learning_rate": "0.001"}, "learning rate must be a number"),
        (
            TrainConfig,
            {"learning_rate": True},
            "learning rate must be a number, got True",
        ),
        (TrainConfig, {"jit_compile": 1}, "jit_compile must be true or false, got 1"),
        (TrainConfig, {"optimizer": 3}, "optimizer must be one of"),
    ],
)
def test_wrong_types_are_refused(cls, kwargs, message):
    """Values of the wrong type (strings, floats, booleans) raise ValueError."""
    with pytest.raises(ValueError, match=message):
        cls(**kwargs)


@pytest.mark.parametrize("cls", [ModelConfig, TrainConfig])
def test_from_dict_refuses_unknown_keys(cls):
    """from_dict rejects keys that are not settings, naming them."""
    data = {**cls().to_dict(), "foo": 1, "bar": 2}
    with pytest.raises(
        ValueError, match=rf"{cls.__name__} has unknown keys \['bar', 'foo'\]"
    ):
        cls.from_dict(data)


@pytest.mark.parametrize("cls", [ModelConfig, TrainConfig])
@pytest.mark.parametrize("data", [None, [], "{}", 3])
def test_from_dict_refuses_non_objects(cls, data):
    """from_dict of anything but a dict raises ValueError, not TypeError."""
    with pytest.raises(ValueError, match=rf"{cls.__name__} must be a JSON object"):
        cls.from_dict(data)


def test_from_dict_checks_values():
    """from_dict applies the same validation as the constructor."""
    with pytest.raises(ValueError, match="latent size must be between 2 and 32, got 0"):
        ModelConfig.from_dict({"hidden": [256], "latent_dim": 0, "beta": 1.0})
    with pytest.raises(ValueError, match="epochs must be between 1 and 10000, got 0"):
        TrainConfig.from_dict({"epochs": 0})


def test_configs_are_frozen():
    """Settings cannot be changed after construction (they would skip validation)."""
    config = ModelConfig()
    with pytest.raises(AttributeError):
        config.latent_dim = 0  # type: ignore[misc]


@pytest.mark.parametrize("shape", [(28, 28, 1), (32, 32, 3), (64, 64, 3), (8, 40, 1)])
def test_image_shapes_up_to_64_grey_or_colour_are_allowed(shape) -> None:
    """Dense models take sides 8 to 64 and 1 or 3 channels; to_dict records them."""
    config = ModelConfig(image_shape=list(shape))
    assert config.image_shape == shape
    assert config.n_pixels == shape[0] * shape[1] * shape[2]
    assert ModelConfig.from_dict(config.to_dict()) == config


@pytest.mark.parametrize(
    ("shape", "architecture", "message"),
    [
        ((65, 32, 3), "dense", "need a conv model"),
        ((129, 128, 3), "conv", "image side"),
        ((7, 32, 3), "dense", "image side"),
        ((32, 32, 2), "dense", "1 or 3 channels"),
        ((32, 32), "dense", "height, width and channels"),
        ((30, 32, 3), "conv", "divisible by 4"),
    ],
)
def test_bad_image_shapes_are_refused(shape, architecture, message) -> None:
    """Sides beyond 8..64 (dense) or 8..128 (conv), other channel counts, or
    conv sides not divisible by 4."""
    with pytest.raises(ValueError, match=message):
        ModelConfig(image_shape=shape, architecture=architecture)


def test_mnist_shape_is_not_written_so_old_folders_read_the_same() -> None:
    """The default 28x28x1 is left out of the JSON, as folders before it had it."""
    assert "image_shape" not in ModelConfig().to_dict()
    assert ModelConfig.from_dict({"hidden": [256], "latent_dim": 2, "beta": 1.0})


def test_conv_models_take_128_pixel_images_and_dense_ones_64() -> None:
    """The two limits, each from one constant: a conv model up to
    IMAGE_SIDE_MAX (128, its sized preset down to 4x4 in five stages), a
    dense one up to LIVE_SIDE_MAX (64); TrainConfig's image size up to 128."""
    from vaeapp.core.config import (
        IMAGE_SIDE_MAX,
        LIVE_SIDE_MAX,
        growing_filters,
    )

    assert (IMAGE_SIDE_MAX, LIVE_SIDE_MAX) == (128, 64)
    big = (IMAGE_SIDE_MAX, IMAGE_SIDE_MAX, 3)
    assert ModelConfig(architecture="conv", image_shape=big).image_shape == big
    assert len(growing_filters(IMAGE_SIDE_MAX, IMAGE_SIDE_MAX)) == 5
    ModelConfig(image_shape=(LIVE_SIDE_MAX, LIVE_SIDE_MAX, 3))
    with pytest.raises(ValueError, match="need a conv model"):
        ModelConfig(image_shape=(LIVE_SIDE_MAX + 4, LIVE_SIDE_MAX, 3))
    assert TrainConfig(image_size=IMAGE_SIDE_MAX).image_size == IMAGE_SIDE_MAX
