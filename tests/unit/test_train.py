"""Training in-process: the loop's helpers, the command line generated from the
config fields, --config, NaN stop and cancellation."""

from __future__ import annotations

import argparse
import signal

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from unit_helpers import synthetic_arrays, tiny_train_config, write_npz

from vaeapp.core.config import ModelConfig
from vaeapp.data.sources import validation_split
from vaeapp.jobs.progress import FAILED, read_progress
from vaeapp.store.size import snapshot_epochs


@pytest.fixture(scope="module")
def train():
    import vaeapp.train.command

    return vaeapp.train.command


@pytest.fixture(scope="module")
def training():
    import vaeapp.train.loop

    return vaeapp.train.loop


@pytest.fixture
def keep_sigterm_handler():
    """main() installs a SIGTERM handler; put the previous one back afterwards."""
    previous = signal.getsignal(signal.SIGTERM)
    yield
    signal.signal(signal.SIGTERM, previous)


@pytest.mark.parametrize("epochs", [1, 2, 5, 24, 25, 200, 10_000])
def test_snapshot_epochs_are_increasing_bounded_and_include_the_last(epochs):
    """snapshot_epochs gives at most 24 distinct epochs from 1 to the last."""
    picks = snapshot_epochs(epochs)
    assert picks[0] == 1 and picks[-1] == epochs
    assert picks == sorted(set(picks)) and len(picks) <= 24


def test_subset_takes_a_seeded_sorted_sample(training, dataset):
    """subset() returns all images for size 0, else a reproducible sample."""
    x = dataset.x_train
    assert training.subset(x, 0, 0) is x
    assert training.subset(x, 10**6, 0) is x
    a, b = training.subset(x, 50, 1), training.subset(x, 50, 1)
    assert a.shape == (50, 784)
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, training.subset(x, 50, 2))


@given(
    count=st.integers(min_value=1, max_value=100_000),
    size=st.integers(min_value=0, max_value=50_000),
)
@settings(max_examples=40, deadline=None)
def test_validation_split_is_disjoint_fixed_and_at_most_a_tenth(count, size):
    """The validation rows never overlap the training rows, cover all images
    together, take at most a tenth and are the same on every call."""
    train_rows, validation_rows = validation_split(count, size)
    assert np.intersect1d(train_rows, validation_rows).size == 0
    np.testing.assert_array_equal(
        np.sort(np.concatenate([train_rows, validation_rows])), np.arange(count)
    )
    assert validation_rows.size == min(size, count // 10)
    again = validation_split(count, size)[1]
    np.testing.assert_array_equal(validation_rows, again)


def test_parse_hidden():
    """'512,256' parses to (512, 256); non-numbers raise ArgumentTypeError."""
    from vaeapp.core.options import parse_hidden

    assert parse_hidden("512,256") == (512, 256)
    assert parse_hidden("16") == (16,)
    with pytest.raises(
        argparse.ArgumentTypeError, match="comma-separated whole numbers"
    ):
        parse_hidden("16,abc")


def test_configs_from_args_maps_every_option(train):
    """Command-line options become the matching ModelConfig and TrainConfig fields."""
    argv = (
        "--preset deep --latent-dim 5 --beta 0.5 --epochs 3 --batch-size 7 --lr 0.01 "
        "--optimizer sgd --schedule constant --kl-warmup 2 --train-size 100 --seed 9 "
        "--no-jit --grid-size 0 --dataset fashion_mnist"
    ).split()
    args = train.build_parser().parse_args(argv)
    model, config = train.configs_from_args(args)
    assert model == ModelConfig(hidden=(512, 256), latent_dim=5, beta=0.5)
    assert (config.epochs, config.batch_size, config.learning_rate) == (3, 7, 0.01)
    assert (config.optimizer, config.schedule, config.kl_warmup) == (
        "sgd",
        "constant",
        2,
    )
    assert (config.train_size, config.seed, config.jit_compile) == (100, 9, False)
    assert (config.grid_size, config.dataset) == (0, "fashion_mnist")
    hidden_args = train.build_parser().parse_args(
        ["--hidden", "64,32", "--preset", "deep"]
    )
    assert train.configs_from_args(hidden_args)[0].hidden == (64, 32)


def test_batch_larger_than_training_set_is_refused(training, dataset):
    """train_model refuses a batch size above the number of training images."""
    config = tiny_train_config(batch_size=181)  # 20 of the 200 validate
    with pytest.raises(
        ValueError, match="batch size 181 is larger than the 180 training"
    ):
        training.train_model(ModelConfig(hidden=(16,)), config, dataset, verbose=False)
    config = tiny_train_config(batch_size=60, train_size=50)
    with pytest.raises(
        ValueError, match="batch size 60 is larger than the 50 training"
    ):
        training.train_model(ModelConfig(hidden=(16,)), config, dataset, verbose=False)


def test_keep_best_keeps_the_epoch_of_lowest_validation_elbo(training, dataset):
    """With keep-best the run reports the epoch of the lowest per-epoch
    validation -ELBO, and the validation images are held out of training."""
    result = training.train_model(
        ModelConfig(hidden=(16,)),
        tiny_train_config(epochs=4, grid_size=0, keep_best=True, learning_rate=0.05),
        dataset,
        verbose=False,
    )
    curve = [row["val_neg_elbo"] for row in result.history]
    assert result.best_epoch == int(np.argmin(curve)) + 1
    assert result.train_images == 180
    assert set(result.validation_metrics) == {"val_recon", "val_kl", "val_neg_elbo"}
    assert all(np.isfinite(v) for v in result.validation_metrics.values())


def _trained_weights(training, dataset, **overrides):
    config = tiny_train_config(
        grid_size=0, validation_size=0, learning_rate=0.05, train_size=50, **overrides
    )
    result = training.train_model(
        ModelConfig(hidden=(16,)), config, dataset, verbose=False
    )
    return result.model.get_weights()


def test_ema_publishes_the_moving_average_of_the_weights(training, dataset):
    """With --ema the run ends on the averaged weights: at momentum 0.99999 after
    three one-batch epochs they stay at the first step's weights (Keras's average
    starts there), while the raw weights of the same run have moved on."""
    first_step = _trained_weights(training, dataset, epochs=1)
    averaged = _trained_weights(training, dataset, epochs=3, ema_momentum=0.99999)
    raw = _trained_weights(training, dataset, epochs=3)
    ema_gap = max(
        np.abs(a - b).max() for a, b in zip(averaged, first_step, strict=True)
    )
    raw_gap = max(np.abs(a - b).max() for a, b in zip(raw, first_step, strict=True))
    assert ema_gap < 1e-4 < 1e-2 < raw_gap


def test_ema_with_an_early_stop_needs_keep_best():
    """EMA with patience but without keep-best is refused: the average would be lost."""
    with pytest.raises(ValueError, match="EMA keeps the averaged weights only"):
        tiny_train_config(ema_momentum=0.9, patience=2)
    assert tiny_train_config(ema_momentum=0.9, patience=2, keep_best=True).patience


def test_run_without_validation_has_no_held_out_curve(training, dataset):
    """validation_size 0 trains on every image and records no validation rows;
    keep-best is refused without a validation split."""
    result = training.train_model(
        ModelConfig(hidden=(16,)),
        tiny_train_config(epochs=1, grid_size=0, validation_size=0),
        dataset,
        verbose=False,
    )
    assert result.train_images == 200 and result.validation_metrics is None
    assert not any(key.startswith("val_") for key in result.history[0])
    with pytest.raises(ValueError, match="validation-set size above 0"):
        tiny_train_config(keep_best=True, validation_size=0)


def test_diverging_run_stops_and_publishes_nothing(
    train, training, tmp_path, monkeypatch, capsys, keep_sigterm_handler
):
    """lr 1.0 SGD, beta 100: loss turns NaN, TrainingStopped, exit 1, no folder."""
    raised = []
    real_train_model = training.train_model

    def spy(*args, **kwargs):
        try:
            return real_train_model(*args, **kwargs)
        except Exception as error:
            raised.append(error)
            raise

    monkeypatch.setattr(train, "train_model", spy)  # where the command looks it up
    npz = write_npz(tmp_path / "data.npz", synthetic_arrays())
    out, progress = tmp_path / "out", tmp_path / "p.json"
    settings = (
        "--train-size 200 --batch-size 50 --hidden 16 --epochs 2 --lr 1.0 "
        "--optimizer sgd --schedule constant --beta 100 --seed 0 --no-jit "
        "--grid-size 0 --quiet --name diverged"
    ).split()
    code = train.main(
        ["--data", str(npz), "--out", str(out), "--progress-file", str(progress)]
        + settings
    )
    assert len(raised) == 1 and isinstance(raised[0], training.TrainingStopped)
    assert "NaN or infinite" in str(raised[0])
    assert code == 1
    err = capsys.readouterr().err
    assert err.startswith("error: the loss became NaN or infinite in epoch ")
    assert "nothing was saved" in err
    assert not (out / "diverged").exists()
    assert not out.exists() or list(out.iterdir()) == []
    state = read_progress(progress)
    assert state is not None and state.state == FAILED
    assert "NaN" in state.message


def test_stop_flag_cancels_training(training, dataset):
    """A set stop flag ends training with TrainingStopped saying it was cancelled."""
    with pytest.raises(training.TrainingStopped, match="cancelled after"):
        training.train_model(
            ModelConfig(hidden=(16,)),
            tiny_train_config(epochs=3, grid_size=0),
            dataset,
            verbose=False,
            stop_flag=[True],
        )


def _fields_with_flags():
    from vaeapp.core.config import TrainConfig
    from vaeapp.core.options import flag
    from vaeapp.core.settings import settings

    return [
        (cls, f, spec, flag(f, spec))
        for cls in (ModelConfig, TrainConfig)
        for f, spec in settings(cls)
        if spec.cli
    ]


def test_every_config_field_has_an_option_in_help(train):
    """Each ModelConfig/TrainConfig field has a CLI option, documented with limits."""
    text = " ".join(train.build_parser().format_help().split())
    for _, field, spec, option in _fields_with_flags():
        assert option in text, field.name
        if spec.limits and not spec.choices:
            assert spec.limits in text, field.name
    assert "--config FILE" in text


@pytest.mark.parametrize(
    ("field", "spec", "option"),
    [
        (f, spec, option)
        for _, f, spec, option in _fields_with_flags()
        if spec.low is not None and not isinstance(f.default, tuple)
    ],
    ids=lambda v: getattr(v, "name", str(v)),
)
def test_a_value_just_outside_a_limit_is_refused_by_cli_and_config(
    train, field, spec, option
):
    """One step past each limit: the config and the parsed options refuse it alike."""
    from vaeapp.core.config import TrainConfig

    cls = ModelConfig if field.name in ModelConfig.__dataclass_fields__ else TrainConfig
    step = 1 if isinstance(field.default, int) else 1e-3 * max(1.0, abs(spec.high))
    for value in (spec.low - step, spec.high + step):
        if isinstance(field.default, int):
            value = int(value)
        with pytest.raises(ValueError, match=spec.name) as direct:
            cls(**{field.name: value})
        args = train.build_parser().parse_args([option, str(value)])
        with pytest.raises(ValueError) as parsed:
            train.configs_from_args(args)
        assert str(parsed.value) == str(direct.value)
    for value in (spec.low, spec.high):  # the limits themselves are allowed
        args = train.build_parser().parse_args([option, str(value)])
        model, config = train.configs_from_args(args)
        assert getattr(model if cls is ModelConfig else config, field.name) == value


def test_config_option_round_trips_the_stored_document(train, tmp_path):
    """--config reads the document a model folder stores and gives the same configs."""
    from vaeapp.core.config import TrainConfig
    from vaeapp.store.writing import config_document, write_json

    model = ModelConfig(architecture="conv", filters=(8, 16), hidden=(64,), beta=0.5)
    config = TrainConfig(epochs=3, learning_rate=0.02, optimizer="sgd", seed=7)
    path = tmp_path / "config.json"
    write_json(path, config_document(model, config, "somewhere"))
    args = train.build_parser().parse_args(["--config", str(path)])
    assert train.configs_from_args(args) == (model, config)
    args = train.build_parser().parse_args(["--config", str(path), "--epochs", "9"])
    assert train.configs_from_args(args)[1].epochs == 9


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("{not json", "is not valid JSON"),
        ('{"format_version": 99}', "is not format version"),
        (
            '{"format_version": 1, "model": {"latent_dim": 0}, "train": {}}',
            "latent size must be between 2 and 32",
        ),
    ],
)
def test_a_bad_config_document_is_refused(train, tmp_path, text, message):
    """A broken --config document raises ValueError naming the file and the fault."""
    path = tmp_path / "config.json"
    path.write_text(text)
    args = train.build_parser().parse_args(["--config", str(path)])
    with pytest.raises(ValueError, match=message):
        train.configs_from_args(args)


def test_config_cannot_be_combined_with_preset(train, tmp_path):
    """--preset with --config is refused: the document names the architecture."""
    args = train.build_parser().parse_args(
        ["--config", str(tmp_path / "c.json"), "--preset", "deep"]
    )
    with pytest.raises(ValueError, match="--preset cannot be combined with --config"):
        train.configs_from_args(args)


def test_conv_models_skip_xla_on_a_cpu():
    """On TensorFlow without a GPU, a conv model or one with dropout trains
    without XLA (its CPU convolutions were 20-70x slower, its dropout 2.5x); a
    plain dense model keeps it, --no-jit drops it."""
    from vaeapp.core.config import TrainConfig
    from vaeapp.train.engine import use_xla

    on, off = TrainConfig(), TrainConfig(jit_compile=False)
    conv = ModelConfig(architecture="conv", hidden=(16,), filters=(4, 8))
    assert use_xla(on, ModelConfig()) is True
    assert use_xla(on, conv) is False
    assert use_xla(on, ModelConfig(dropout=0.2)) is False
    assert use_xla(on, ModelConfig(input_dropout=0.2)) is False
    assert use_xla(off, ModelConfig()) is False
