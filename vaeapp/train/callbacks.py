"""The Keras callbacks of a training run, one job each: the KL warm-up, a
stop on request, a row of figures per epoch, snapshots of the manifold grid,
the progress file and printed lines (Keras's ``Progbar`` on a terminal), and,
when chosen, the averaged (EMA) weights, keep-best or early stopping on the
validation split, and logs for TensorBoard and in CSV (Keras's own
``TensorBoard`` and ``CSVLogger``, with the grid snapshots as TensorBoard
images).

:func:`training_callbacks` puts them in order for ``fit`` and returns the
:class:`RunLog` they fill.

Imports Keras at its top, as :mod:`vaeapp.model.vae` and
:mod:`vaeapp.train.batches` do: import this module inside the function that
trains (:func:`vaeapp.train.loop.train_model`), never at a module's top, so
that the command can choose the backend first and ``--help`` stays fast.

Each callback keeps the model it was made for instead of reading Keras's
``Callback.model``: on JAX that property copies the whole training state back
into the variables at every read (``jax_state_sync``), a cost the callbacks
that run after every batch would pay each time.
"""

from __future__ import annotations

import math
import os
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import keras
import numpy as np

from vaeapp.core.config import ModelConfig, TrainConfig
from vaeapp.explore.manifold import GRID_Q_DEFAULT, grid_points
from vaeapp.jobs.progress import RUNNING, Progress, write_progress
from vaeapp.model.vae import build_decoder
from vaeapp.store.size import snapshot_epochs
from vaeapp.train.distributed import without_distribution
from vaeapp.train.report import NO_LOG_FILES, LogFiles, epoch_line, seconds_left

PROGRESS_INTERVAL_S = 0.5
# Per-epoch figures on the validation split, as Keras names them.
VALIDATION_KEYS = ("val_recon", "val_kl", "val_neg_elbo")
# The figures the progress bar shows: Keras's running means of the epoch so
# far, so shown as they come (stateful) rather than averaged again.
BAR_KEYS = ("recon", "kl", "neg_elbo")
# A TensorBoard run (a subfolder of --tensorboard) beside Keras's "train" and
# "validation": the grid snapshots as images.
SNAPSHOTS_RUN = "snapshots"
SNAPSHOT_TAG = "manifold_grid"


@dataclass
class RunLog:
    """What the callbacks gather while ``fit`` runs."""

    # One row per finished epoch, in order: its training figures, the val_*
    # ones when the run validates, kl_weight, learning_rate and seconds.
    history: list[dict[str, float]] = field(default_factory=list)
    # Epoch (1-based) -> grid picture, as :func:`tile_images` makes it.
    snapshots: dict[int, np.ndarray] = field(default_factory=dict)
    # An epoch ended with a figure that is not finite: it has no row, and
    # training stopped.
    diverged: bool = False


def training_callbacks(
    model: Any,
    model_config: ModelConfig,
    config: TrainConfig,
    *,
    stop_flag: list[bool],
    validating: bool,
    main: bool = True,
    progress_path: Path | None = None,
    verbose: bool = True,
    notes: tuple[str, ...] = (),
    log_files: LogFiles = NO_LOG_FILES,
) -> tuple[list[keras.callbacks.Callback], RunLog]:
    """The callbacks for ``model.fit``, in the order they must run, and the
    log they fill. ``stop_flag[0]``, once set, ends training after the batch;
    ``validating`` says ``fit`` is given the validation split. Only the
    ``main`` process writes the progress file and ``log_files``, prints and
    takes snapshots (the others' would be the same). ``notes`` go into every
    progress written."""
    log = RunLog()
    callbacks: list[keras.callbacks.Callback] = [
        keras.callbacks.TerminateOnNaN(),
        StopOnRequest(model, stop_flag),
    ]
    if config.kl_warmup:
        callbacks.append(KLWarmup(model, model_config.beta, config.kl_warmup))
    callbacks.append(EpochRecord(model, log, validating))
    if main and config.grid_size >= 2:
        at = snapshot_epochs(config.epochs)
        callbacks.append(GridSnapshots(model, model_config, config.grid_size, at, log))
    progress = Progress(
        state=RUNNING, epochs=config.epochs, pid=os.getpid(), notes=list(notes)
    )
    path = progress_path if main else None
    callbacks.append(ProgressReport(progress, path, log, verbose and main, validating))
    if config.ema_momentum:
        # First, so that from each epoch's end to the next one's start the
        # model holds the averaged weights: validation, snapshots and keep-best
        # all see them, and they are the weights left after the last epoch.
        callbacks.insert(0, keras.callbacks.SwapEMAWeights(swap_on_epoch=True))
    if config.keep_best or config.patience:
        callbacks.append(keep_best(config))
    if main:
        callbacks += file_loggers(log_files, log)
    return callbacks, log


def file_loggers(files: LogFiles, log: RunLog) -> list[keras.callbacks.Callback]:
    """Keras's CSVLogger (one row per epoch: the training and ``val_``
    figures) and TensorBoard callback (the same as scalars, the training ones
    in run ``train``, the validation ones in ``validation``, and the learning
    rate), and the grid snapshots as images in run ``snapshots``: those that
    ``files`` asks for. They run after keep-best, so that an epoch that ends
    training early is still logged."""
    loggers: list[keras.callbacks.Callback] = []
    if files.csv is not None:
        loggers.append(
            keras.callbacks.CSVLogger(str(files.csv), append=files.csv_append)
        )
    if files.tensorboard is not None:
        # write_graph off: the VAE is a subclassed model, which has no graph
        # to draw before it is traced.
        loggers.append(
            keras.callbacks.TensorBoard(str(files.tensorboard), write_graph=False)
        )
        loggers.append(SnapshotImages(files.tensorboard / SNAPSHOTS_RUN, log))
    return loggers


def keep_best(config: TrainConfig) -> keras.callbacks.EarlyStopping:
    """Stops after ``config.patience`` epochs without a lower validation
    -ELBO (never, when it is 0) and, with ``config.keep_best``, puts back the
    weights of the epoch that had the lowest."""
    return keras.callbacks.EarlyStopping(
        monitor="val_neg_elbo",
        mode="min",
        patience=config.patience or config.epochs,
        restore_best_weights=config.keep_best,
    )


class StopOnRequest(keras.callbacks.Callback):
    """Ends training after the batch in which ``flag[0]`` was set (the
    command's SIGTERM handler sets it)."""

    def __init__(self, model: Any, flag: list[bool]) -> None:
        super().__init__()
        self.vae, self.flag = model, flag

    def on_train_batch_end(self, batch: int, logs: Any = None) -> None:
        if self.flag[0]:
            self.vae.stop_training = True


class KLWarmup(keras.callbacks.Callback):
    """Raises the KL term's weight linearly from 0 to ``beta`` over the first
    ``epochs`` epochs, one step per epoch (Bowman et al. 2016, "Generating
    Sentences from a Continuous Space", sec. 3.1): the decoder learns to use z
    before the KL term pulls q(z|x) to the prior."""

    def __init__(self, model: Any, beta: float, epochs: int) -> None:
        super().__init__()
        self.vae, self.beta, self.epochs = model, beta, epochs

    def on_epoch_begin(self, epoch: int, logs: Any = None) -> None:
        self.vae.kl_weight.assign(self.beta * min(1.0, epoch / self.epochs))


class EpochRecord(keras.callbacks.Callback):
    """Adds each finished epoch's figures to ``log.history``; an epoch with a
    figure that is not finite instead stops training and sets
    ``log.diverged``."""

    def __init__(self, model: Any, log: RunLog, validating: bool) -> None:
        super().__init__()
        self.vae, self.log = model, log
        self.held_out = VALIDATION_KEYS if validating else ()

    def on_epoch_begin(self, epoch: int, logs: Any = None) -> None:
        self.started = time.perf_counter()

    def on_epoch_end(self, epoch: int, logs: Any = None) -> None:
        logs = logs or {}
        row = {
            "epoch": epoch + 1,
            "recon": float(logs.get("recon", math.nan)),
            "kl": float(logs.get("kl", math.nan)),
            "neg_elbo": float(logs.get("neg_elbo", math.nan)),
            "loss": float(logs.get("loss", math.nan)),
            **{key: float(logs.get(key, math.nan)) for key in self.held_out},
            "kl_weight": float(self.vae.kl_weight.numpy()),
            "learning_rate": float(
                keras.ops.convert_to_numpy(self.vae.optimizer.learning_rate)
            ),
            "seconds": time.perf_counter() - self.started,
        }
        if not all(math.isfinite(v) for v in row.values()):
            self.vae.stop_training = self.log.diverged = True
            return
        self.log.history.append(row)


class GridSnapshots(keras.callbacks.Callback):
    """Decodes an ``n`` x ``n`` manifold grid into ``log.snapshots`` after
    each epoch of ``at`` (1-based) that ended with finite figures."""

    def __init__(
        self, model: Any, model_config: ModelConfig, n: int, at: list[int], log: RunLog
    ) -> None:
        super().__init__()
        self.vae, self.model_config, self.n = model, model_config, n
        self.at, self.log = set(at), log

    def on_epoch_end(self, epoch: int, logs: Any = None) -> None:
        if not self.log.diverged and epoch + 1 in self.at:
            self.log.snapshots[epoch + 1] = _snapshot(
                self.vae, self.model_config, self.n
            )


class SnapshotImages(keras.callbacks.Callback):
    """Writes each grid snapshot :class:`GridSnapshots` took to the
    TensorBoard run folder ``folder`` as an image (``tf.summary.image``, at
    step ``epoch - 1`` as Keras's TensorBoard callback counts epochs).

    TensorBoard's files are written by TensorFlow's summary writer on every
    backend (Keras's callback does the same): on JAX, TensorFlow is imported
    when the first snapshot is written."""

    def __init__(self, folder: Path, log: RunLog) -> None:
        super().__init__()
        self.folder, self.log = folder, log
        self.writer: Any = None

    def on_epoch_end(self, epoch: int, logs: Any = None) -> None:
        picture = self.log.snapshots.get(epoch + 1)
        if picture is None:
            return
        import tensorflow as tf

        if self.writer is None:
            self.writer = tf.summary.create_file_writer(str(self.folder))
        # (1, height, width, channels) uint8, as tf.summary.image takes it.
        batch = picture[None, ..., None] if picture.ndim == 2 else picture[None]
        with self.writer.as_default():
            tf.summary.image(
                SNAPSHOT_TAG, batch, step=epoch, description=f"after epoch {epoch + 1}"
            )
        self.writer.flush()

    def on_train_end(self, logs: Any = None) -> None:
        if self.writer is not None:
            self.writer.close()


class ProgressReport(keras.callbacks.Callback):
    """Writes ``progress`` to ``path`` (None: nowhere) at most every
    PROGRESS_INTERVAL_S during an epoch and after each epoch with finite
    figures; with ``verbose``, prints a line per epoch, and, when the output
    is a terminal, Keras's progress bar below them: one bar over every step
    of the run, so that its time left (Keras's estimate from the mean time
    per step since the first, epoch ends included) is the run's."""

    def __init__(
        self,
        progress: Progress,
        path: Path | None,
        log: RunLog,
        verbose: bool,
        validating: bool,
    ) -> None:
        super().__init__()
        self.progress, self.path, self.log = progress, path, log
        self.verbose, self.validating = verbose, validating
        self.tty = verbose and sys.stdout.isatty()
        self.bar: keras.utils.Progbar | None = None
        self.steps_before = 0  # the run's steps before this epoch's

    def on_train_begin(self, logs: Any = None) -> None:
        if self.tty:
            steps = self.params.get("steps") or 1
            self.bar = keras.utils.Progbar(
                steps * self.progress.epochs, stateful_metrics=BAR_KEYS
            )

    def on_epoch_begin(self, epoch: int, logs: Any = None) -> None:
        self.started = self.last_write = time.perf_counter()
        self.steps_before = epoch * (self.params.get("steps") or 1)

    def on_train_batch_end(self, batch: int, logs: Any = None) -> None:
        if self.bar is not None:
            # Keras gives the callbacks plain numbers; the bar redraws itself
            # at most every 0.05 s.
            shown = [(key, float(logs[key])) for key in BAR_KEYS if key in (logs or {})]
            self.bar.update(self.steps_before + batch + 1, shown, finalize=False)
            sys.stdout.flush()
        now = time.perf_counter()
        if now - self.last_write < PROGRESS_INTERVAL_S:
            return
        self.last_write = now
        done, epochs = len(self.log.history), self.progress.epochs
        fraction = min(1.0, (batch + 1) / max(1, self.params.get("steps") or 1))
        self.progress.epoch, self.progress.fraction = done, fraction
        self.progress.seconds_left = seconds_left(
            self._seconds(), epochs, now - self.started, fraction
        )
        write_progress(self.path, self.progress)

    def on_epoch_end(self, epoch: int, logs: Any = None) -> None:
        if self.log.diverged:
            return
        self.progress.epoch, self.progress.fraction = epoch + 1, 1.0
        self.progress.history = self.log.history
        self.progress.seconds_left = seconds_left(self._seconds(), self.progress.epochs)
        write_progress(self.path, self.progress)
        if self.verbose:
            row, left = self.log.history[-1], self.progress.seconds_left
            # On a terminal, the line takes the bar's place (ANSI "erase
            # line", as the bar's own colours are ANSI); the bar is drawn
            # again below it at the next step.
            erase = "\x1b[2K" if self.tty else ""
            line = epoch_line(row, self.progress.epochs, left, self.validating)
            print(erase + line, flush=True)

    def _seconds(self) -> list[float]:
        """The seconds each finished epoch took."""
        return [row["seconds"] for row in self.log.history]


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
