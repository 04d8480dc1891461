"""The training loop: a VAE fitted to a data set, with its test-set figures.

:func:`train_model` trains and returns a :class:`TrainResult`;
:mod:`vaeapp.train.publish` writes it as a model folder and :mod:`vaeapp.train` is
the command line around both. Keras is imported only when training starts.

The same loop runs on one process (TensorFlow by default) and data-parallel on
the JAX backend (:mod:`vaeapp.train.distributed`): every process trains on its part
of each global batch, and process 0 alone evaluates and returns the result.
"""

from __future__ import annotations

import math
import os
import re
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from vaeapp.core.config import (
    ModelConfig,
    TrainConfig,
    check_batch_size,
)
from vaeapp.data.sources import (
    VALIDATION_SHARE_MAX,
    Dataset,
    validation_count,
    validation_split,
)
from vaeapp.data.testsets import is_shipped
from vaeapp.explore.manifold import GRID_Q_DEFAULT, grid_points
from vaeapp.inference.refinement import EVAL_SAMPLES
from vaeapp.jobs.progress import RUNNING, Progress, duration, write_progress
from vaeapp.store.folder import images_as_bytes
from vaeapp.store.size import check_folder_fits, compressed_bytes, snapshot_epochs
from vaeapp.train.distributed import Cluster, finish, without_distribution

EVAL_BATCH = 1000
AUTO_STEPS_PER_EXECUTION = 100
# An automatic chunk holds at most this many images (31 MB as float32), so that
# large batches do not turn a chunk into a copy of the whole training set.
AUTO_CHUNK_IMAGES = 10_000
PROGRESS_INTERVAL_S = 0.5
# Per-epoch figures on the validation split, as Keras names them.
VALIDATION_KEYS = ("val_recon", "val_kl", "val_neg_elbo")
MAX_CLASSES_NAMED = 5  # classes a note names before "and N more"
# TensorFlow's log lines: severity I, W, E or F, date, time, thread, file:line,
# e.g. "E0000 00:00:1796492360.557238   11821 cuda_platform.cc:52] ...".
# Those written before absl's InitializeLog are printed whatever
# TF_CPP_MIN_LOG_LEVEL says; the command applies it to them itself.
_LOG_LINE = re.compile(r"^([IWEF])\d{4} [\d:.]+ +\d+ [^\]\s]+:\d+\] ")
_SEVERITIES = "IWEF"
_ABSL_PREAMBLE = "WARNING: All log messages before absl::InitializeLog()"
# What CUDA logs on a machine without a GPU: nothing is wrong there.
_NO_GPU_LINES = ("failed call to cuInit", "Could not find cuda drivers")
# Device files of a GPU TensorFlow could use: NVIDIA's, and WSL2's.
_GPU_DEVICE_FILES = ("nvidia[0-9]*", "dxg")


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
    test_images: np.ndarray  # (n_test, height * width * channels) float32 in [0, 1]
    class_names: tuple[str, ...] | None = None
    factors: np.ndarray | None = None  # (n_test, k) float32, true factors
    factor_names: tuple[str, ...] | None = None
    train_images: int = 0  # images trained on
    validation_metrics: dict[str, float] | None = None  # val_* of the kept weights
    best_epoch: int = 0  # the epoch whose weights were kept (1-based)
    # The validation split (n_val, height * width * channels) float32 in [0, 1].
    validation_images: np.ndarray | None = None


def subset(images: np.ndarray, size: int, seed: int) -> np.ndarray:
    """The training images to use: all, or ``size`` of them drawn with ``seed``."""
    if size == 0 or size >= images.shape[0]:
        return images
    rng = np.random.default_rng(seed)
    return images[np.sort(rng.permutation(images.shape[0])[:size])]


def seconds_left(
    done: list[float], epochs: int, elapsed: float = 0.0, fraction: float = 0.0
) -> float | None:
    """Seconds to the end of the last of ``epochs`` epochs, or None before
    anything was timed. ``done`` holds the seconds each finished epoch took;
    the one now running took ``elapsed`` for ``fraction`` of its batches. The
    first epoch (it includes compiling) sets the pace only until a second
    one has finished."""
    if len(done) >= epochs:
        return 0.0
    running = elapsed / fraction if fraction > 0 else None
    pace = float(np.mean(done[1:] if len(done) > 1 else done)) if done else running
    if pace is None:
        return None
    this_epoch = running - elapsed if running is not None else pace
    return max(0.0, this_epoch + (epochs - len(done) - 1) * pace)


def _left(seconds: float | None) -> str:
    """``", about 3 min left"``, or nothing when unknown or none is left."""
    return f", about {duration(seconds)} left" if seconds else ""


def run_notes(
    model_config: ModelConfig, config: TrainConfig, data: Dataset
) -> list[str]:
    """Lines on what the run decided from the data, for the output and the
    progress file: the model and its images' size and colour, a validation
    split smaller than asked, and the classes without a test image (which
    the map's legend will lack)."""
    notes = [_images_note(model_config, config)]
    validation = _validation_note(config, data.x_train.shape[0])
    untested = _untested_classes_note(data)
    return notes + [note for note in (validation, untested) if note]


def _images_note(model_config: ModelConfig, config: TrainConfig) -> str:
    """E.g. ``model 3072-256-2 (tutorial) on 32x32 RGB images (image size 32;
    colour auto: not every image is grey)``."""
    height, width, channels = model_config.image_shape
    kind = "grey" if channels == 1 else "RGB"
    size = f"image size {config.image_size}" if config.image_size else "their own size"
    if config.color != "auto":
        colour = f"colour {config.color}"
    elif channels == 1:
        colour = "colour auto: every image is grey"
    else:
        colour = "colour auto: not every image is grey"
    return (
        f"model {model_config.describe()} on {height}x{width} {kind} images "
        f"({size}; {colour})"
    )


def _validation_note(config: TrainConfig, count: int) -> str | None:
    """A line when the validation split holds fewer images than asked."""
    held = validation_count(count, config.validation_size)
    if held >= config.validation_size:
        return None
    share = f"{VALIDATION_SHARE_MAX:.0%}"
    if not held:
        return (
            f"no validation split: {count:,} training images are too few for "
            f"any ({config.validation_size:,} asked; it takes at most {share})"
        )
    return (
        f"validation split: {_images(held)}, {share} of the {count:,} training "
        f"images ({config.validation_size:,} asked; it takes at most {share})"
    )


def _images(count: int) -> str:
    """``"1 image"``, ``"3,420 images"``."""
    return f"{count:,} image" + ("" if count == 1 else "s")


def _untested_classes_note(data: Dataset) -> str | None:
    """A line naming the classes with training images but no test image:
    they get no point on the map and no entry in its legend."""
    if data.class_names is None:
        return None
    classes = len(data.class_names)
    trained = np.bincount(data.y_train, minlength=classes)
    tested = np.bincount(data.y_test, minlength=classes)
    missing = [i for i in range(classes) if trained[i] and not tested[i]]
    if not missing:
        return None
    named = ", ".join(
        f"'{data.class_names[i]}' ({_images(trained[i])})"
        for i in missing[:MAX_CLASSES_NAMED]
    )
    more = len(missing) - MAX_CLASSES_NAMED
    named += f" and {more} more" if more > 0 else ""
    which = "class" if len(missing) == 1 else f"{len(missing)} classes"
    return (
        f"no test image for {which} {named}: no point on the map and no entry "
        "in its legend; a larger test share holds out more where the data has "
        "no test split"
    )


def startup_log(text: str, min_level: int, gpu_device: bool) -> tuple[str, bool]:
    """What to show of the log TensorFlow wrote while starting, and whether
    it said there is no GPU. Lines of a severity below ``min_level`` (as
    TF_CPP_MIN_LOG_LEVEL counts: 0 info, 1 warning, 2 error) are dropped, as
    TensorFlow itself does once its logging is set up; so are CUDA's lines
    saying it found no GPU when the machine has no GPU device file
    (``gpu_device`` False): there they are no error. Everything else is kept,
    in order."""
    kept, no_gpu = [], False
    for line in text.splitlines(keepends=True):
        match = _LOG_LINE.match(line)
        if line.startswith(_ABSL_PREAMBLE):
            severity = _SEVERITIES.index("W")
        elif match:
            severity = _SEVERITIES.index(match.group(1))
        else:
            kept.append(line)  # not TensorFlow's: e.g. Python's own warnings
            continue
        if not gpu_device and any(part in line for part in _NO_GPU_LINES):
            no_gpu = True
        elif severity >= min_level:
            kept.append(line)
    return "".join(kept), no_gpu


def gpu_device_present() -> bool:
    """Whether this machine has a device file of a GPU TensorFlow could use."""
    dev = Path("/dev")
    return any(any(dev.glob(pattern)) for pattern in _GPU_DEVICE_FILES)


def start_tensorflow(verbose: bool) -> int:
    """Import TensorFlow and let it look for GPUs, catching what it writes to
    standard error meanwhile and showing it through :func:`startup_log`;
    returns the number of GPUs. With ``verbose``, a machine without a GPU is
    named in one line instead of CUDA's error lines."""
    sys.stderr.flush()
    saved = os.dup(2)
    gpus: list[Any] = []
    with tempfile.TemporaryFile() as caught:
        os.dup2(caught.fileno(), 2)
        try:
            import tensorflow as tf

            gpus = tf.config.list_physical_devices("GPU")
        finally:
            sys.stderr.flush()
            os.dup2(saved, 2)
            os.close(saved)
            caught.seek(0)
            text = caught.read().decode(errors="replace")
            level = os.environ.get("TF_CPP_MIN_LOG_LEVEL", "0")
            shown, no_gpu = startup_log(
                text, int(level) if level.isdigit() else 0, gpu_device_present()
            )
            sys.stderr.write(shown)
            sys.stderr.flush()
    if verbose and not gpus:
        reason = " (CUDA found no GPU device)" if no_gpu else ""
        print(f"no GPU here{reason}: training on the CPU", flush=True)
    return len(gpus)


def auto_steps_per_chunk(batch_size: int) -> int:
    """Batches per compiled call when the config leaves it at 0: up to
    AUTO_STEPS_PER_EXECUTION, and no more than AUTO_CHUNK_IMAGES images."""
    return max(1, min(AUTO_STEPS_PER_EXECUTION, AUTO_CHUNK_IMAGES // batch_size))


def steps_per_chunk(config: TrainConfig) -> int:
    """Batches per compiled call for ``config``: its own, or the automatic one."""
    return config.steps_per_execution or auto_steps_per_chunk(config.batch_size)


def use_xla(config: TrainConfig, model_config: ModelConfig) -> bool:
    """Whether the compiled training step goes through XLA: as ``config``
    says, except for conv models and models with dropout on TensorFlow without
    a GPU. There XLA's CPU convolutions inside the chunk loop took 104-211 s
    per epoch of 3,000 MNIST images against 2.7-5.7 s for TensorFlow's own
    kernels, and its random numbers for dropout made an epoch of 5,000 images
    of 784-1024-512-256-2 take 6.0 s against 2.3-2.5 s without XLA
    (docs/benchmarks.md); other dense models gain from XLA, and JAX always
    compiles with it."""
    import keras

    if not config.jit_compile:
        return False
    slow_on_cpu = (
        model_config.architecture == "conv"
        or model_config.dropout
        or model_config.input_dropout
    )
    if not slow_on_cpu or keras.backend.backend() != "tensorflow":
        return True
    import tensorflow as tf

    return bool(tf.config.list_physical_devices("GPU"))


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
    # Polyak averaging of the weights (Polyak & Juditsky 1992), when chosen.
    momentum = config.ema_momentum
    ema = {"use_ema": True, "ema_momentum": momentum} if momentum else {}
    if config.optimizer == "adam":
        return keras.optimizers.Adam(rate, **ema)
    if config.optimizer == "adamw":  # decoupled weight decay (Loshchilov & Hutter 2019)
        return keras.optimizers.AdamW(rate, weight_decay=config.weight_decay, **ema)
    if config.optimizer == "rmsprop":
        return keras.optimizers.RMSprop(rate, **ema)
    return keras.optimizers.SGD(rate, momentum=0.9, **ema)


def _callbacks(
    model: Any,
    model_config: ModelConfig,
    config: TrainConfig,
    progress_path: Path | None,
    verbose: bool,
    flags: tuple[list[bool], list[bool], bool],
    main: bool = True,
    notes: tuple[str, ...] = (),
) -> tuple[list[Any], list[dict[str, float]], dict[int, np.ndarray]]:
    """Keras callbacks for warm-up, NaN stop, progress, snapshots, printing and,
    when chosen, early stopping or keeping the best epoch on the validation
    split. ``flags``: the stop request (read), the divergence flag (set) and
    whether the run validates. Only the ``main`` process takes snapshots (the
    others' would be the same). ``notes`` go into every progress written."""
    import keras

    stop_flag, diverged, validating = flags
    held_out = VALIDATION_KEYS if validating else ()

    history: list[dict[str, float]] = []
    snapshots: dict[int, np.ndarray] = {}
    snapping = main and config.grid_size >= 2
    snap_at = set(snapshot_epochs(config.epochs)) if snapping else set()
    progress = Progress(
        state=RUNNING, epochs=config.epochs, pid=os.getpid(), notes=list(notes)
    )
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
            progress.seconds_left = seconds_left(
                [row["seconds"] for row in history],
                config.epochs,
                now - self.started,
                fraction,
            )
            write_progress(progress_path, progress)
            if tty:
                bar = "#" * int(30 * fraction)
                print(
                    f"\repoch {len(history) + 1}/{config.epochs} [{bar:<30}]"
                    f"{_left(progress.seconds_left)}   ",
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
                **{key: float(logs.get(key, math.nan)) for key in held_out},
                "kl_weight": float(model.kl_weight.numpy()),
                "learning_rate": float(
                    keras.ops.convert_to_numpy(model.optimizer.learning_rate)
                ),
                "seconds": time.perf_counter() - self.started,
            }
            if not all(math.isfinite(v) for v in row.values()):
                model.stop_training = diverged[0] = True
                return
            history.append(row)
            if epoch + 1 in snap_at:
                snapshots[epoch + 1] = _snapshot(model, model_config, config.grid_size)
            progress.epoch, progress.fraction = epoch + 1, 1.0
            progress.history = history
            progress.seconds_left = seconds_left(
                [row["seconds"] for row in history], config.epochs
            )
            write_progress(progress_path, progress)
            if verbose:
                validation = (
                    f"validation -ELBO {row['val_neg_elbo']:.2f} nats  |  "
                    if held_out
                    else ""
                )
                print(
                    f"\repoch {epoch + 1}/{config.epochs}  recon {row['recon']:.2f}  "
                    f"kl {row['kl']:.2f}  total {row['neg_elbo']:.2f}  |  "
                    f"{validation}{row['seconds']:.1f} s"
                    f"{_left(progress.seconds_left)}",
                    flush=True,
                )

    callbacks = [keras.callbacks.TerminateOnNaN(), Monitor()]
    if config.ema_momentum:
        # From each epoch's end to the next one's start the model holds the
        # averaged weights: validation, snapshots and keep-best all see them,
        # and they are the weights left after the last epoch.
        callbacks.insert(0, keras.callbacks.SwapEMAWeights(swap_on_epoch=True))
    if config.keep_best or config.patience:
        callbacks.append(
            keras.callbacks.EarlyStopping(
                monitor="val_neg_elbo",
                mode="min",
                patience=config.patience or config.epochs,
                restore_best_weights=config.keep_best,
            )
        )
    return callbacks, history, snapshots


def _snapshot(model: Any, model_config: ModelConfig, n: int) -> np.ndarray:
    """A small manifold grid from the Keras decoder: ``(n * h, n * w)`` uint8
    for grey images, ``(n * h, n * w, c)`` for colour ones."""
    import keras

    z = grid_points(
        n, GRID_Q_DEFAULT, base=np.zeros(model_config.latent_dim, np.float32)
    )
    decoder = model.decoder
    if keras.distribution.distribution() is not None:
        # The weights are replicated over every process's devices; decoding
        # on them would be a computation all processes must join. A local
        # copy decodes on this process alone.
        from vaeapp.model.vae import build_decoder

        with without_distribution():
            decoder = build_decoder(model_config)
            decoder.set_weights(model.decoder.get_weights())
    logits = decoder(z, training=False)
    pixels = keras.ops.convert_to_numpy(keras.ops.sigmoid(logits))
    return tile_images(pixels, n, model_config.image_shape)


def tile_images(images: np.ndarray, n: int, image_shape: tuple[int, ...]) -> np.ndarray:
    """``(n * n, h * w * c)`` images in [0, 1], row by row, as one uint8
    picture ``(n * h, n * w)`` (grey) or ``(n * h, n * w, c)``."""
    height, width, channels = image_shape
    pixels = np.clip(np.rint(np.asarray(images) * 255.0), 0, 255).astype(np.uint8)
    picture = (
        pixels.reshape(n, n, height, width, channels)
        .transpose(0, 2, 1, 3, 4)
        .reshape(n * height, n * width, channels)
    )
    return picture[..., 0] if channels == 1 else picture


def evaluate(
    model: Any, x: np.ndarray, samples: int = EVAL_SAMPLES, prefix: str = "test"
) -> dict[str, float]:
    """Reconstruction, KL and negative ELBO in nats of the images ``x``
    ``(n, h, w, c)``, averaged over ``samples`` independent draws of z per image
    (each draw is an unbiased estimate; averaging lowers its variance); keys
    ``{prefix}_recon``, ``{prefix}_kl``, ``{prefix}_neg_elbo``."""
    runs = [
        model.evaluate(x, batch_size=EVAL_BATCH, verbose=0, return_dict=True)
        for _ in range(samples)
    ]
    return {
        f"{prefix}_{k}": float(np.mean([r[k] for r in runs]))
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
    cluster: Cluster | None = None,
    notes: tuple[str, ...] = (),
) -> TrainResult | None:
    """Train on ``data`` and return the model with its test-set figures.

    ``notes`` (e.g. :func:`run_notes`) are carried in the progress file.

    Raises TrainingStopped when the loss turns NaN or ``stop_flag[0]`` is set;
    then nothing is returned to publish. Raises ValueError before training if
    the model's folder could be too large to upload (:func:`check_folder_fits`).

    With a data-parallel ``cluster`` (:func:`vaeapp.train.distributed.start`) every
    process trains on its part of each global batch and of the validation
    split; then the group is left and process 0 alone evaluates a local copy
    of the weights and returns the result; the others return None.
    """
    import keras

    from vaeapp.model.vae import VAE
    from vaeapp.train.batches import ShuffledChunks

    if model_config.image_shape != data.image_shape:
        raise ValueError(
            f"the model is for {model_config.image_shape} images, the data "
            f"holds {data.image_shape}"
        )
    test_bytes = images_as_bytes(data.x_test)
    check_folder_fits(
        model_config,
        config,
        data.x_test.shape[0],
        not is_shipped(config.dataset, test_bytes, data.y_test)
        and compressed_bytes(test_bytes),
    )
    cluster = cluster or Cluster()
    # TensorFlow trains on chunks of batches in one compiled loop
    # (VAE.train_step); JAX's trainer takes plain batches.
    chunked = keras.backend.backend() == "tensorflow"
    if config.batch_size % cluster.local_devices:
        raise ValueError(
            f"the batch size per process, {config.batch_size}, must be a multiple "
            f"of this process's {cluster.local_devices} devices: each takes an "
            "equal part"
        )
    keras.utils.set_random_seed(config.seed)
    train_rows, validation_rows = validation_split(
        data.x_train.shape[0], config.validation_size
    )
    x_validation = data.x_train[validation_rows]
    if (config.keep_best or config.patience) and not validation_rows.size:
        raise ValueError(
            f"{data.x_train.shape[0]} training images are too few for a "
            "validation split (it takes at most a tenth): train without "
            "keep-best and patience"
        )
    x_train = subset(data.x_train[train_rows], config.train_size, config.seed)
    check_batch_size(config, train_rows.size)
    batches = ShuffledChunks(
        x_train,
        config.batch_size,
        steps_per_chunk(config),
        config.seed,
        shard=(cluster.process_index, cluster.process_count),
        chunked=chunked,
        drop_remainder=cluster.data_parallel,
    )
    # Each process validates on its own part, in batches its devices split.
    x_validation_part = x_validation[cluster.validation_rows(validation_rows.size)]
    if validation_rows.size and not x_validation_part.size:
        raise ValueError(
            f"{validation_rows.size} validation images are too few to share "
            f"between {cluster.devices} devices: give a larger validation set"
        )
    model = VAE(model_config, seed=config.seed)
    model.compile(
        optimizer=build_optimizer(config, batches.steps_per_epoch),
        jit_compile=use_xla(config, model_config),
        steps_per_execution=1 if chunked else steps_per_chunk(config),
    )
    if config.kl_warmup == 0:
        model.kl_weight.assign(model_config.beta)
    stop_flag = stop_flag if stop_flag is not None else [False]
    diverged = [False]
    validating = bool(validation_rows.size)
    callbacks, history, snapshots = _callbacks(
        model,
        model_config,
        config,
        progress_path if cluster.is_main else None,
        verbose and cluster.is_main,
        (stop_flag, diverged, validating),
        main=cluster.is_main,
        notes=notes,
    )
    model.fit(
        batches,
        epochs=config.epochs,
        shuffle=False,  # batches reshuffles itself after each epoch
        validation_data=(x_validation_part,) if validating else None,
        validation_batch_size=EVAL_BATCH - EVAL_BATCH % cluster.local_devices,
        callbacks=callbacks,
        verbose=0,
    )
    if stop_flag[0]:
        raise TrainingStopped(
            f"cancelled after {len(history)} epochs; nothing was saved"
        )
    if (
        diverged[0]
        or not history
        or (len(history) < config.epochs and not config.patience)
    ):
        raise TrainingStopped(
            f"the loss became NaN or infinite in epoch {len(history) + 1} "
            "(try a smaller learning rate); nothing was saved"
        )
    best = _kept_epoch(history, config)
    if cluster.data_parallel:
        # Replicated weights read on this process; then leave the group, so
        # that no peer waits while process 0 evaluates and publishes.
        weights = model.get_weights()
        finish(cluster)
        if not cluster.is_main:
            return None
        model = VAE(model_config, seed=config.seed)
        model.set_weights(weights)
        model.compile(jit_compile=use_xla(config, model_config))
    if config.weights_dtype != "float32":
        model.set_weights(stored_weights(model.get_weights(), config.weights_dtype))
    validation = evaluate(model, x_validation, prefix="val") if validating else None
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
        class_names=data.class_names,
        factors=data.factors_test,
        factor_names=data.factor_names,
        train_images=int(x_train.shape[0]),
        validation_metrics=validation,
        best_epoch=best,
        validation_images=x_validation if validating else None,
    )


def stored_weights(weights: list[np.ndarray], dtype: str) -> list[np.ndarray]:
    """``weights`` rounded to ``dtype`` and back to float32 (integer arrays, such
    as a seed's state, unchanged): the values a folder that stores ``dtype``
    holds, so the figures are measured on them. Raises ValueError when a
    weight is beyond ``dtype``'s range."""
    rounded = []
    for array in weights:
        if array.dtype == np.float32:
            with np.errstate(over="ignore"):
                array = array.astype(dtype).astype(np.float32)
            if not np.isfinite(array).all():
                raise ValueError(
                    f"a weight is beyond {dtype}'s range: store the weights as float32"
                )
        rounded.append(array)
    return rounded


def _kept_epoch(history: list[dict[str, float]], config: TrainConfig) -> int:
    """The epoch (1-based) whose weights the model holds after ``fit``: with
    keep-best, the first epoch of lowest validation -ELBO (the one Keras's
    EarlyStopping restores: it counts only strict improvements), else the last
    one trained."""
    if config.keep_best:
        return int(np.argmin([row["val_neg_elbo"] for row in history])) + 1
    return len(history)
