"""Train a VAE and publish it as a model folder.

Command line: ``python -m vaeapp.train --help``. The app runs this same command
in a subprocess and follows it through ``--progress-file``.
"""

from __future__ import annotations

import argparse
import math
import os
import signal
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from vaeapp.config import (
    ARCHITECTURES,
    DATASETS,
    FILTERS_DEFAULT,
    OPTIMIZERS,
    PRESET_NAMES,
    SCHEDULES,
    ModelConfig,
    TrainConfig,
    parse_widths,
)
from vaeapp.data import DataError, Dataset, load_dataset
from vaeapp.jobs import APP_NICENESS
from vaeapp.manifold import GRID_Q_DEFAULT, grid_points, tile
from vaeapp.progress import CANCELLED, DONE, FAILED, RUNNING, Progress, write_progress
from vaeapp.store import (
    CONFIG_FILE,
    IMAGES_KEY,
    LATENTS_FILE,
    METRICS_FILE,
    SNAPSHOTS_FILE,
    WEIGHTS_FILE,
    check_name,
    config_document,
    images_as_bytes,
    publish,
    trained_dir,
    write_json,
)
from vaeapp.testsets import is_shipped

EVAL_BATCH = 1000
EVAL_SAMPLES = 10
MAX_SNAPSHOTS = 24
AUTO_STEPS_PER_EXECUTION = 100
# An automatic chunk holds at most this many images (31 MB as float32), so that
# large batches do not turn a chunk into a copy of the whole training set.
AUTO_CHUNK_IMAGES = 10_000
PROGRESS_INTERVAL_S = 0.5


class TrainingStopped(RuntimeError):
    """Training ended without a model to publish (diverged or cancelled)."""


@dataclass
class TrainResult:
    """A finished run: the Keras model and everything saved beside it."""

    model: Any
    model_config: ModelConfig
    train_config: TrainConfig
    data_source: str
    history: list[dict[str, float]]
    test_metrics: dict[str, float]
    latent_mean: np.ndarray
    latent_log_var: np.ndarray
    labels: np.ndarray
    snapshots: dict[int, np.ndarray]
    test_images: np.ndarray  # (n_test, 784) float32 in [0, 1]


def snapshot_epochs(epochs: int, count: int = MAX_SNAPSHOTS) -> list[int]:
    """Up to ``count`` epochs (1-based), spaced geometrically, always the last."""
    picks = np.unique(np.rint(np.geomspace(1, epochs, min(count, epochs))).astype(int))
    return [int(e) for e in picks]


def subset(data: Dataset, size: int, seed: int) -> np.ndarray:
    """The training images to use: all, or ``size`` of them drawn with ``seed``."""
    if size == 0 or size >= data.x_train.shape[0]:
        return data.x_train
    rng = np.random.default_rng(seed)
    return data.x_train[np.sort(rng.permutation(data.x_train.shape[0])[:size])]


def check_batch_size(config: TrainConfig, available: int) -> None:
    """Raise ValueError if a batch is larger than the images trained on."""
    count = min(config.train_size or available, available)
    if config.batch_size > count:
        raise ValueError(
            f"batch size {config.batch_size} is larger than the {count} "
            "training images; choose at most that many"
        )


def auto_steps_per_chunk(batch_size: int) -> int:
    """Batches per compiled call when the config leaves it at 0: up to
    AUTO_STEPS_PER_EXECUTION, and no more than AUTO_CHUNK_IMAGES images."""
    return max(1, min(AUTO_STEPS_PER_EXECUTION, AUTO_CHUNK_IMAGES // batch_size))


def steps_per_chunk(config: TrainConfig) -> int:
    """Batches per compiled call for ``config``: its own, or the automatic one."""
    return config.steps_per_execution or auto_steps_per_chunk(config.batch_size)


def build_optimizer(config: TrainConfig, steps_per_epoch: int) -> Any:
    """The optimizer with its learning-rate schedule."""
    import keras

    rate: Any = config.learning_rate
    if config.schedule == "cosine":
        rate = keras.optimizers.schedules.CosineDecay(
            config.learning_rate,
            decay_steps=config.epochs * steps_per_epoch,
            alpha=config.final_lr_fraction,
        )
    if config.optimizer == "adam":
        return keras.optimizers.Adam(rate)
    if config.optimizer == "adamw":  # decoupled weight decay (Loshchilov & Hutter 2019)
        return keras.optimizers.AdamW(rate, weight_decay=config.weight_decay)
    if config.optimizer == "rmsprop":
        return keras.optimizers.RMSprop(rate)
    return keras.optimizers.SGD(rate, momentum=0.9)


def _callbacks(
    model: Any,
    model_config: ModelConfig,
    config: TrainConfig,
    progress_path: Path | None,
    verbose: bool,
    stop_flag: list[bool],
) -> tuple[list[Any], list[dict[str, float]], dict[int, np.ndarray]]:
    """Keras callbacks for warm-up, NaN stop, progress, snapshots and printing."""
    import keras

    history: list[dict[str, float]] = []
    snapshots: dict[int, np.ndarray] = {}
    snap_at = set(snapshot_epochs(config.epochs)) if config.grid_size >= 2 else set()
    progress = Progress(state=RUNNING, epochs=config.epochs, pid=os.getpid())
    tty = verbose and sys.stdout.isatty()

    class Monitor(keras.callbacks.Callback):
        def on_epoch_begin(self, epoch: int, logs: Any = None) -> None:
            if config.kl_warmup:
                weight = model_config.beta * min(1.0, epoch / config.kl_warmup)
                model.kl_weight.assign(weight)
            self.started = self.last_write = time.perf_counter()
            self.steps_done = 0

        def on_train_batch_end(self, batch: int, logs: Any = None) -> None:
            if stop_flag[0]:
                model.stop_training = True
            now = time.perf_counter()
            if now - self.last_write < PROGRESS_INTERVAL_S:
                return
            self.last_write = now
            fraction = min(1.0, (batch + 1) / max(1, self.params.get("steps") or 1))
            progress.epoch, progress.fraction = len(history), fraction
            write_progress(progress_path, progress)
            if tty:
                bar = "#" * int(30 * fraction)
                print(
                    f"\repoch {len(history) + 1}/{config.epochs} [{bar:<30}]",
                    end="",
                    flush=True,
                )

        def on_epoch_end(self, epoch: int, logs: Any = None) -> None:
            logs = logs or {}
            row = {
                "epoch": epoch + 1,
                "recon": float(logs.get("recon", math.nan)),
                "kl": float(logs.get("kl", math.nan)),
                "neg_elbo": float(logs.get("neg_elbo", math.nan)),
                "loss": float(logs.get("loss", math.nan)),
                "test_recon": float(logs.get("val_recon", math.nan)),
                "test_kl": float(logs.get("val_kl", math.nan)),
                "test_neg_elbo": float(logs.get("val_neg_elbo", math.nan)),
                "kl_weight": float(model.kl_weight.numpy()),
                "learning_rate": float(
                    keras.ops.convert_to_numpy(model.optimizer.learning_rate)
                ),
                "seconds": time.perf_counter() - self.started,
            }
            if not all(math.isfinite(v) for v in row.values()):
                model.stop_training = True
                return
            history.append(row)
            if epoch + 1 in snap_at:
                snapshots[epoch + 1] = _snapshot(model, model_config, config.grid_size)
            progress.epoch, progress.fraction = epoch + 1, 1.0
            progress.history = history
            write_progress(progress_path, progress)
            if verbose:
                print(
                    f"\repoch {epoch + 1}/{config.epochs}  recon {row['recon']:.2f}  "
                    f"kl {row['kl']:.2f}  total {row['neg_elbo']:.2f}  |  test -ELBO "
                    f"{row['test_neg_elbo']:.2f} nats  |  {row['seconds']:.1f} s",
                    flush=True,
                )

    return [keras.callbacks.TerminateOnNaN(), Monitor()], history, snapshots


def _snapshot(model: Any, model_config: ModelConfig, n: int) -> np.ndarray:
    """A small manifold grid ``(n * 28, n * 28)`` uint8 from the Keras decoder."""
    import keras

    z = grid_points(
        n, GRID_Q_DEFAULT, base=np.zeros(model_config.latent_dim, np.float32)
    )
    logits = model.decoder(z, training=False)
    return tile(keras.ops.convert_to_numpy(keras.ops.sigmoid(logits)), n)


def evaluate(
    model: Any, x: np.ndarray, samples: int = EVAL_SAMPLES
) -> dict[str, float]:
    """Test-set reconstruction, KL and negative ELBO in nats, averaged over
    ``samples`` independent draws of z per image (each draw is an unbiased
    estimate; averaging lowers its variance)."""
    runs = [
        model.evaluate(x, batch_size=EVAL_BATCH, verbose=0, return_dict=True)
        for _ in range(samples)
    ]
    return {
        f"test_{k}": float(np.mean([r[k] for r in runs]))
        for k in ("recon", "kl", "neg_elbo")
    }


def train_model(
    model_config: ModelConfig,
    config: TrainConfig,
    data: Dataset,
    *,
    progress_path: Path | None = None,
    verbose: bool = True,
    stop_flag: list[bool] | None = None,
) -> TrainResult:
    """Train on ``data`` and return the model with its test-set figures.

    Raises TrainingStopped when the loss turns NaN or ``stop_flag[0]`` is set;
    then nothing is returned to publish.
    """
    import keras

    from vaeapp.batches import ShuffledChunks
    from vaeapp.model import VAE

    keras.utils.set_random_seed(config.seed)
    x_train = subset(data, config.train_size, config.seed)
    check_batch_size(config, data.x_train.shape[0])
    batches = ShuffledChunks(
        x_train,
        config.batch_size,
        steps_per_chunk(config),
        config.seed,
    )
    model = VAE(model_config, seed=config.seed)
    model.compile(
        optimizer=build_optimizer(config, batches.steps_per_epoch),
        jit_compile=config.jit_compile,
    )
    if config.kl_warmup == 0:
        model.kl_weight.assign(model_config.beta)
    stop_flag = stop_flag if stop_flag is not None else [False]
    callbacks, history, snapshots = _callbacks(
        model, model_config, config, progress_path, verbose, stop_flag
    )
    model.fit(
        batches,
        epochs=config.epochs,
        shuffle=False,  # batches reshuffles itself after each epoch
        validation_data=(data.x_test,),
        validation_batch_size=EVAL_BATCH,
        callbacks=callbacks,
        verbose=0,
    )
    if stop_flag[0]:
        raise TrainingStopped(
            f"cancelled after {len(history)} epochs; nothing was saved"
        )
    if len(history) < config.epochs:
        raise TrainingStopped(
            f"the loss became NaN or infinite in epoch {len(history) + 1} "
            "(try a smaller learning rate); nothing was saved"
        )
    test = evaluate(model, data.x_test)
    mean, log_var = model.encoder.predict(data.x_test, batch_size=EVAL_BATCH, verbose=0)
    return TrainResult(
        model=model,
        model_config=model_config,
        train_config=config,
        data_source=data.source,
        history=history,
        test_metrics=test,
        latent_mean=np.asarray(mean, np.float32),
        latent_log_var=np.asarray(log_var, np.float32),
        labels=data.y_test,
        snapshots=snapshots,
        test_images=data.x_test,
    )


def save_result(result: TrainResult, parent: Path, name: str) -> Path:
    """Publish ``result`` atomically as ``parent/name`` and return that path."""
    from vaeapp.model import VAE

    def write_files(folder: Path) -> None:
        clean = VAE(result.model_config)  # no optimizer state: weights stored once
        clean.set_weights(result.model.get_weights())
        clean.save_weights(str(folder / WEIGHTS_FILE))
        write_json(
            folder / CONFIG_FILE,
            config_document(
                result.model_config, result.train_config, result.data_source
            ),
        )
        write_json(
            folder / METRICS_FILE, {**result.test_metrics, "history": result.history}
        )
        images = images_as_bytes(result.test_images)
        shipped = is_shipped(result.train_config.dataset, images, result.labels)
        np.savez_compressed(
            folder / LATENTS_FILE,
            mean=result.latent_mean,
            log_var=result.latent_log_var,
            labels=result.labels,
            **({} if shipped else {IMAGES_KEY: images}),
        )
        if result.snapshots:
            epochs = sorted(result.snapshots)
            np.savez_compressed(
                folder / SNAPSHOTS_FILE,
                epochs=np.array(epochs, np.int32),
                grids=np.stack([result.snapshots[e] for e in epochs]),
            )

    return publish(parent, name, write_files)


def parse_hidden(text: str) -> tuple[int, ...]:
    """``"512,256"`` -> ``(512, 256)``."""
    try:
        return parse_widths(text)
    except ValueError as error:
        raise argparse.ArgumentTypeError(str(error)) from None


def parse_filters(text: str) -> tuple[int, ...]:
    """``"32,64"`` -> ``(32, 64)``."""
    try:
        return parse_widths(text, "filters")
    except ValueError as error:
        raise argparse.ArgumentTypeError(str(error)) from None


def build_parser() -> argparse.ArgumentParser:
    defaults = TrainConfig()
    presets = "; ".join(
        f"{name}: {ModelConfig.preset(name).describe(with_preset=False)}"
        for name in PRESET_NAMES
    )
    parser = argparse.ArgumentParser(
        prog="python -m vaeapp.train",
        description="Train a VAE on MNIST or Fashion-MNIST and save it as a model "
        "folder that the app can open.",
    )
    arch = parser.add_argument_group("model")
    arch.add_argument(
        "--preset",
        choices=PRESET_NAMES,
        default="tutorial",
        help=f"architecture preset (default: tutorial). {presets}",
    )
    arch.add_argument(
        "--architecture",
        choices=ARCHITECTURES,
        default=None,
        help="dense: fully connected layers only; conv: two stride-2 Conv2D "
        "layers before the dense ones and Conv2DTranspose layers after them "
        "(default: the preset's, dense for tutorial and deep)",
    )
    arch.add_argument(
        "--hidden",
        type=parse_hidden,
        default=None,
        help="dense hidden widths from the input inwards, e.g. 512,256 "
        "(overrides the preset)",
    )
    arch.add_argument(
        "--filters",
        type=parse_filters,
        default=None,
        help="channels of the two convolution layers, conv architecture only "
        f"(default: {','.join(map(str, FILTERS_DEFAULT))})",
    )
    arch.add_argument("--latent-dim", type=int, default=2, help="latent size, 2 to 32")
    arch.add_argument("--beta", type=float, default=1.0, help="weight of the KL term")
    run = parser.add_argument_group("training")
    run.add_argument("--epochs", type=int, default=defaults.epochs)
    run.add_argument("--batch-size", type=int, default=defaults.batch_size)
    run.add_argument(
        "--lr",
        type=float,
        default=defaults.learning_rate,
        help="(initial) learning rate",
    )
    run.add_argument("--optimizer", choices=OPTIMIZERS, default=defaults.optimizer)
    run.add_argument(
        "--weight-decay",
        type=float,
        default=defaults.weight_decay,
        help="decoupled weight decay (adamw only)",
    )
    run.add_argument(
        "--schedule",
        choices=SCHEDULES,
        default=defaults.schedule,
        help="learning-rate schedule (cosine decays to --final-lr-fraction)",
    )
    run.add_argument(
        "--final-lr-fraction", type=float, default=defaults.final_lr_fraction
    )
    run.add_argument(
        "--kl-warmup",
        type=int,
        default=defaults.kl_warmup,
        help="epochs over which the KL weight ramps from 0 to beta",
    )
    run.add_argument(
        "--train-size",
        type=int,
        default=defaults.train_size,
        help="train on this many images (0: all)",
    )
    run.add_argument("--seed", type=int, default=defaults.seed)
    run.add_argument(
        "--steps-per-execution",
        type=int,
        default=0,
        help="batches per compiled call (0: automatic)",
    )
    run.add_argument("--no-jit", action="store_true", help="do not compile with XLA")
    run.add_argument(
        "--grid-size",
        type=int,
        default=defaults.grid_size,
        help="side of the manifold grid saved after chosen epochs (0: none)",
    )
    io = parser.add_argument_group("data and output")
    io.add_argument("--dataset", choices=DATASETS, default=defaults.dataset)
    io.add_argument(
        "--data",
        default=None,
        help="local data: a Keras-layout .npz or a folder of IDX files "
        "(default: $VAEAPP_MNIST_DATA / $VAEAPP_FASHION_MNIST_DATA, "
        "else Keras's download)",
    )
    io.add_argument(
        "--out",
        type=Path,
        default=None,
        help="folder to write the model folder into (default: $VAEAPP_HOME or ./runs)",
    )
    io.add_argument(
        "--name", default=None, help="model folder name (default: generated)"
    )
    io.add_argument(
        "--progress-file",
        type=Path,
        default=None,
        help="JSON file to write progress to (used by the app)",
    )
    io.add_argument("--quiet", action="store_true", help="print only the final line")
    io.add_argument(
        "--nice",
        type=int,
        default=0,
        choices=range(0, 20),
        metavar="N",
        help="lower this process's CPU priority by N (0 to 19); the app uses "
        f"{APP_NICENESS} so a retrain never starves the people exploring",
    )
    return parser


def configs_from_args(args: argparse.Namespace) -> tuple[ModelConfig, TrainConfig]:
    """Validated configs from parsed arguments; raises ValueError."""
    preset = ModelConfig.preset(args.preset)
    model = ModelConfig(
        hidden=args.hidden if args.hidden is not None else preset.hidden,
        latent_dim=args.latent_dim,
        beta=args.beta,
        architecture=args.architecture or preset.architecture,
        filters=args.filters if args.filters is not None else FILTERS_DEFAULT,
    )
    train = TrainConfig(
        epochs=args.epochs,
        batch_size=args.batch_size,
        learning_rate=args.lr,
        optimizer=args.optimizer,
        weight_decay=args.weight_decay,
        schedule=args.schedule,
        final_lr_fraction=args.final_lr_fraction,
        kl_warmup=args.kl_warmup,
        train_size=args.train_size,
        seed=args.seed,
        dataset=args.dataset,
        steps_per_execution=args.steps_per_execution,
        jit_compile=not args.no_jit,
        grid_size=args.grid_size,
    )
    return model, train


def default_name(model: ModelConfig, train: TrainConfig) -> str:
    stamp = time.strftime("%Y%m%d-%H%M%S")
    return (
        f"{train.dataset}-{model.preset_name or 'custom'}-z{model.latent_dim}-{stamp}"
    )


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command; returns the exit status (0 ok, 1 error, 130 cancelled)."""
    args = build_parser().parse_args(argv)
    if args.nice and hasattr(os, "nice"):
        os.nice(args.nice)
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    os.environ.setdefault("KERAS_BACKEND", "tensorflow")
    progress = Progress(state="starting", pid=os.getpid())
    stop_flag = [False]

    def fail(state: str, message: str, code: int) -> int:
        progress.state, progress.message = state, message
        try:
            write_progress(args.progress_file, progress)
        except OSError as error:
            message += f" (and the progress file could not be written: {error})"
        print(f"error: {message}" if state == FAILED else message, file=sys.stderr)
        return code

    def request_stop(signum: int, frame: Any) -> None:
        stop_flag[0] = True

    signal.signal(signal.SIGTERM, request_stop)
    try:
        model_config, train_config = configs_from_args(args)
        name = args.name or default_name(model_config, train_config)
        parent = (args.out or trained_dir()).expanduser()
        check_name(name)
        if parent.exists() and not parent.is_dir():
            raise ValueError(f"--out {parent} is not a folder")
        if (parent / name).exists():
            raise ValueError(f"a model named {name!r} already exists in {parent}")
        progress.epochs = train_config.epochs
        write_progress(args.progress_file, progress)
        data = load_dataset(train_config.dataset, args.data)
        check_batch_size(train_config, data.x_train.shape[0])
        result = train_model(
            model_config,
            train_config,
            data,
            progress_path=args.progress_file,
            verbose=not args.quiet,
            stop_flag=stop_flag,
        )
        if stop_flag[0]:
            raise TrainingStopped("cancelled before saving; nothing was saved")
        path = save_result(result, parent, name)
    except TrainingStopped as stopped:
        return fail(
            CANCELLED if stop_flag[0] else FAILED,
            str(stopped),
            130 if stop_flag[0] else 1,
        )
    except (DataError, ValueError, OSError) as error:
        return fail(FAILED, str(error), 1)
    except KeyboardInterrupt:
        return fail(CANCELLED, "interrupted; nothing was saved", 130)
    progress.state, progress.model_path = DONE, str(path)
    progress.epoch, progress.fraction = train_config.epochs, 1.0
    progress.history = result.history
    write_progress(args.progress_file, progress)
    print(
        f"saved {path}  test negative ELBO "
        f"{result.test_metrics['test_neg_elbo']:.2f} nats "
        f"(recon {result.test_metrics['test_recon']:.2f} + KL "
        f"{result.test_metrics['test_kl']:.2f})"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
