"""The training loop: a VAE fitted to a data set, with its test-set figures.

:func:`train_model` reads as the Keras VAE example does: check the run, split
the data, build and compile the model, fit it, then evaluate; the extras are
named pieces beside it: the callbacks for ``fit`` (KL warm-up, the averaged
weights, keep-best, snapshots of the grid, the progress file) in
:mod:`vaeapp.train.callbacks`, the compiled step's choices and the optimizer in
:mod:`vaeapp.train.engine`, the batches in :mod:`vaeapp.train.batches`.
:mod:`vaeapp.train.publish` writes the :class:`TrainResult` as a model folder
and :mod:`vaeapp.train.command` is the command line around both. Keras is
imported only when training starts.

The same loop runs on one process (TensorFlow by default) and data-parallel on
the JAX backend (:mod:`vaeapp.train.distributed`): every process trains on its
part of each global batch, and process 0 alone evaluates and returns the result.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from vaeapp.core.config import ModelConfig, TrainConfig, check_batch_size
from vaeapp.data.sources import MAX_TEST_IMAGES, Dataset, validation_split
from vaeapp.inference.refinement import EVAL_SAMPLES
from vaeapp.store.format import TEST_IMAGES_KEY
from vaeapp.train.distributed import Cluster, finish
from vaeapp.train.engine import build_optimizer, steps_per_chunk, use_xla
from vaeapp.train.report import NO_LOG_FILES, LogFiles

if TYPE_CHECKING:
    from vaeapp.train.callbacks import RunLog
    from vaeapp.train.checkpoint import Saved

EVAL_BATCH = 1000
ENCODE_ROWS = 20_000  # held-out images read and encoded at a time


class TrainingStopped(RuntimeError):
    """Training ended without a model to publish (diverged or cancelled)."""


@dataclass(frozen=True)
class Checkpointing:
    """Where a resumable run keeps its state after each epoch
    (:mod:`vaeapp.train.checkpoint`) and, when it continues, the state read
    back; ``on_saved(epochs_done)`` follows each write."""

    path: Path
    resume: Saved | None = None
    on_saved: Callable[[int], None] | None = None


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
    file_names: np.ndarray | None = None  # (n_test,) unicode, image folders


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
    log_files: LogFiles = NO_LOG_FILES,
    checkpointing: Checkpointing | None = None,
) -> TrainResult | None:
    """Train on ``data`` and return the model with its test-set figures;
    ``notes`` (e.g. :func:`vaeapp.train.report.run_notes`) go into the
    progress file, the figures of each epoch into ``log_files``.

    Raises ValueError before training if the data cannot be split as asked;
    TrainingStopped when the loss turns NaN or ``stop_flag[0]`` is set: then
    nothing is returned to publish.

    With a data-parallel ``cluster`` (:func:`vaeapp.train.distributed.start`)
    every process trains on its part of each global batch and of the
    validation split; then the group is left and process 0 alone evaluates a
    local copy of the weights and returns the result; the others return None.

    With ``checkpointing`` the state after each epoch is kept, and a run
    given a saved state continues from it: its remaining epochs train as
    they would have in one go.
    """
    import keras

    from vaeapp.train.callbacks import training_callbacks

    cluster = cluster or Cluster()
    _check_run(model_config, config, data, cluster)
    keras.utils.set_random_seed(config.seed)
    split = _split(data, config, cluster)
    model = _compiled_model(model_config, config, split.batches)
    stop_flag = stop_flag if stop_flag is not None else [False]
    callbacks, log = training_callbacks(
        model,
        model_config,
        config,
        stop_flag=stop_flag,
        validating=split.validating,
        main=cluster.is_main,
        progress_path=progress_path,
        verbose=verbose,
        notes=notes,
        log_files=log_files,
    )
    first_epoch = _checkpointed(
        checkpointing, model, split.batches, log, callbacks, cluster
    )
    model.fit(
        split.batches,
        epochs=config.epochs,
        initial_epoch=first_epoch,
        shuffle=False,  # batches reshuffles itself after each epoch
        validation_data=(split.validation_part,) if split.validating else None,
        validation_batch_size=EVAL_BATCH - EVAL_BATCH % cluster.local_devices,
        callbacks=callbacks,
        verbose=0,
    )
    _check_finished(log, config, stop_flag)
    best = _kept_epoch(log.history, config)
    model = _local_model(model, model_config, config, cluster)
    if model is None:
        return None  # another process than 0: the group is left, 0 evaluates
    if config.weights_dtype != "float32":
        model.set_weights(stored_weights(model.get_weights(), config.weights_dtype))
    return _evaluated(model, model_config, config, data, split, log, best)


def _checkpointed(
    checkpointing: Checkpointing | None,
    model: Any,
    batches: Any,
    log: RunLog,
    callbacks: list[Any],
    cluster: Cluster,
) -> int:
    """Add the checkpoint's callback, last, and put a saved state back;
    returns the epoch ``fit`` starts from (0-based: the epochs done)."""
    if checkpointing is None:
        return 0
    from vaeapp.train.checkpoint import EpochCheckpoint, restore

    saver = EpochCheckpoint(
        checkpointing.path, log, cluster.is_main, checkpointing.on_saved
    )
    callbacks.append(saver)
    saver.set_callbacks(callbacks)
    if checkpointing.resume is None:
        return 0
    restore(model, checkpointing.resume, batches, log, callbacks)
    return checkpointing.resume.epochs_done


@dataclass(frozen=True)
class _Split:
    """This process's training batches and the validation split."""

    batches: Any  # ShuffledChunks of this process's part of each global batch
    train_images: int  # images trained on
    # The validation split (n_val, height * width * channels) float32 in
    # [0, 1], for the kept weights' figures; and this process's rows of it,
    # for fit's figures per epoch.
    validation: np.ndarray
    validation_part: np.ndarray

    @property
    def validating(self) -> bool:
        """Whether the run holds out a validation split."""
        return self.validation.shape[0] > 0


def _check_run(
    model_config: ModelConfig, config: TrainConfig, data: Dataset, cluster: Cluster
) -> None:
    """Raises ValueError before anything is built: images of another shape
    than the model's, a batch this process's devices cannot share equally."""
    if model_config.image_shape != data.image_shape:
        raise ValueError(
            f"the model is for {model_config.image_shape} images, the data "
            f"holds {data.image_shape}"
        )
    if config.batch_size % cluster.local_devices:
        raise ValueError(
            f"the batch size per process, {config.batch_size}, must be a multiple "
            f"of this process's {cluster.local_devices} devices: each takes an "
            "equal part"
        )


def _split(data: Dataset, config: TrainConfig, cluster: Cluster) -> _Split:
    """The validation split held out of ``data.x_train``, and batches of the
    rest (or of ``config.train_size`` of it). Raises ValueError when the split
    is empty but keep-best or patience needs it, when the batch is larger
    than the training images, or when the split is too small to share
    between the devices."""
    import keras

    from vaeapp.train.batches import ShuffledChunks, subset_rows

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
    rows = subset_rows(train_rows, config.train_size, config.seed)
    check_batch_size(config, train_rows.size)
    batches = ShuffledChunks(
        data.x_train,  # read a chunk at a time: never copied whole
        config.batch_size,
        steps_per_chunk(config, int(np.prod(data.image_shape))),
        config.seed,
        rows=rows,
        shard=(cluster.process_index, cluster.process_count),
        # TensorFlow trains on chunks of batches in one compiled loop
        # (VAE.train_step); JAX's trainer takes plain batches.
        chunked=keras.backend.backend() == "tensorflow",
        drop_remainder=cluster.data_parallel,
    )
    # Each process validates on its own part, in batches its devices split.
    x_validation_part = x_validation[cluster.validation_rows(validation_rows.size)]
    if validation_rows.size and not x_validation_part.size:
        raise ValueError(
            f"{validation_rows.size} validation images are too few to share "
            f"between {cluster.devices} devices: give a larger validation set"
        )
    return _Split(batches, int(rows.size), x_validation, x_validation_part)


def _compiled_model(
    model_config: ModelConfig, config: TrainConfig, batches: Any
) -> Any:
    """The VAE, compiled with the optimizer for ``batches`` (a ShuffledChunks)
    and the KL weight it starts with."""
    from vaeapp.model.vae import VAE

    model = VAE(model_config, seed=config.seed)
    model.compile(
        optimizer=build_optimizer(config, batches.steps_per_epoch),
        jit_compile=use_xla(config, model_config),
        # A chunk is already a loop of batches; JAX's trainer makes its own.
        steps_per_execution=1 if batches.chunked else steps_per_chunk(config),
    )
    if config.kl_warmup == 0:
        model.kl_weight.assign(model_config.beta)
    return model


def _check_finished(log: RunLog, config: TrainConfig, stop_flag: list[bool]) -> None:
    """Raises TrainingStopped when ``fit`` ended without a model to publish:
    cancelled, or diverged (a figure not finite, or fewer epochs than asked
    with no early stopping)."""
    history = log.history
    if stop_flag[0]:
        raise TrainingStopped(
            f"cancelled after {len(history)} epochs; nothing was saved"
        )
    if (
        log.diverged
        or not history
        or (len(history) < config.epochs and not config.patience)
    ):
        raise TrainingStopped(
            f"the loss became NaN or infinite in epoch {len(history) + 1} "
            "(try a smaller learning rate); nothing was saved"
        )


def _local_model(
    model: Any, model_config: ModelConfig, config: TrainConfig, cluster: Cluster
) -> Any | None:
    """The trained model to evaluate on this process alone: ``model`` itself
    on one process; after a data-parallel run, which this leaves, a local copy
    of the replicated weights on process 0 and None on the others."""
    if not cluster.data_parallel:
        return model
    from vaeapp.model.vae import VAE

    # Replicated weights read on this process; then leave the group, so
    # that no peer waits while process 0 evaluates and publishes.
    weights = model.get_weights()
    finish(cluster)
    if not cluster.is_main:
        return None
    model = VAE(model_config, seed=config.seed)
    model.set_weights(weights)
    model.compile(jit_compile=use_xla(config, model_config))
    return model


def _evaluated(
    model: Any,
    model_config: ModelConfig,
    config: TrainConfig,
    data: Dataset,
    split: _Split,
    log: RunLog,
    best: int,
) -> TrainResult:
    """The result of a finished run: ``model``'s figures on the validation
    split and the first MAX_TEST_IMAGES test images, every test image's
    q(z|x) (mean and log-variance, each ``(n_test, latent_dim)``), and what
    ``log`` gathered while it trained; ``best`` is the epoch whose weights
    ``model`` holds."""
    validation = (
        evaluate(model, split.validation, prefix="val") if split.validating else None
    )
    test = evaluate(model, np.asarray(data.x_test[:MAX_TEST_IMAGES]))
    if len(data.x_test) > MAX_TEST_IMAGES:
        test[TEST_IMAGES_KEY] = MAX_TEST_IMAGES
    mean, log_var = encode_all(model, data.x_test)
    return TrainResult(
        model=model,
        model_config=model_config,
        train_config=config,
        data_source=data.source,
        history=log.history,
        test_metrics=test,
        latent_mean=np.asarray(mean, np.float32),
        latent_log_var=np.asarray(log_var, np.float32),
        labels=data.y_test,
        snapshots=log.snapshots,
        test_images=data.x_test,
        class_names=data.class_names,
        factors=data.factors_test,
        factor_names=data.factor_names,
        train_images=split.train_images,
        validation_metrics=validation,
        best_epoch=best,
        validation_images=split.validation if split.validating else None,
        file_names=data.names_test,
    )


def encode_all(model: Any, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """q(z|x) of the images ``x`` ``(n, n_pixels)`` (an array or a streamed
    folder's images, up to a million), ENCODE_ROWS read at a time: ``(mean,
    log_var)`` float32, each ``(n, latent_dim)``."""
    parts = [
        model.encoder.predict(
            np.asarray(x[start : start + ENCODE_ROWS]),
            batch_size=EVAL_BATCH,
            verbose=0,
        )
        for start in range(0, x.shape[0], ENCODE_ROWS)
    ]
    return tuple(
        np.concatenate([np.asarray(p[k], np.float32) for p in parts]) for k in (0, 1)
    )


def evaluate(
    model: Any, x: np.ndarray, samples: int = EVAL_SAMPLES, prefix: str = "test"
) -> dict[str, float]:
    """Reconstruction, KL and negative ELBO in nats of the images ``x``
    ``(n, height * width * channels)`` in [0, 1], averaged over ``samples``
    independent draws of z per image (each draw is an unbiased estimate;
    averaging lowers its variance); keys
    ``{prefix}_recon``, ``{prefix}_kl``, ``{prefix}_neg_elbo``."""
    runs = [
        model.evaluate(x, batch_size=EVAL_BATCH, verbose=0, return_dict=True)
        for _ in range(samples)
    ]
    return {
        f"{prefix}_{k}": float(np.mean([r[k] for r in runs]))
        for k in ("recon", "kl", "neg_elbo")
    }


def subset(images: np.ndarray, size: int, seed: int) -> np.ndarray:
    """The training images to use: all, or ``size`` of them drawn with ``seed``."""
    if size == 0 or size >= images.shape[0]:
        return images
    rng = np.random.default_rng(seed)
    return images[np.sort(rng.permutation(images.shape[0])[:size])]


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
