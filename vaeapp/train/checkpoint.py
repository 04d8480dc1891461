"""Resumable runs: the state after each finished epoch, in one file, and
the same state put back before ``fit`` continues.

What a run needs to continue exactly as if it had never stopped: every
variable of the model (weights, the KL weight, the sampling layers' and
dropout's seed states, so the noise of epoch 3 is the one it would have
drawn) and of the optimizer (its step count, which drives the learning-rate
schedule, its moments and the averaged weights); the history rows and grid
snapshots gathered so far; keep-best's best figure, its weights and its
patience count; and the batches' shuffled order, which is drawn again from
the seed for each finished epoch.

:class:`EpochCheckpoint` writes it as ``checkpoint.npz`` in the run's
working folder (:mod:`vaeapp.store.unfinished`) at the start of every epoch
after the first, that is as soon as the previous epoch is over and the
callbacks have folded it in: the averaged (EMA) weights are then swapped
back out of the model, and an epoch's time does not count the write of its
predecessor's checkpoint. The file is written atomically; one from a process
killed while writing it never replaces the last good one. In a data-parallel
run process 0 writes it and every process reads it (the working folder is on
the file system they share, as the model folders are).

Imports Keras at its top: import it inside the function that trains.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import keras
import numpy as np

from vaeapp.store.writing import write_atomic
from vaeapp.train.callbacks import RunLog

STATE_KEY = "state"
CHECKPOINT_VERSION = 1


@dataclass
class Saved:
    """A run's state after ``epochs_done`` epochs, as the checkpoint holds it."""

    epochs_done: int
    model: list[np.ndarray]
    optimizer: list[np.ndarray]
    history: list[dict[str, float]]
    snapshots: dict[int, np.ndarray] = field(default_factory=dict)
    # keep-best and patience (Keras's EarlyStopping): None without them.
    best: float | None = None
    best_epoch: int = 0
    wait: int = 0
    best_weights: list[np.ndarray] | None = None


def write_checkpoint(path: Path, saved: Saved) -> None:
    """Write ``saved`` to ``path`` atomically, as one ``.npz``."""
    state = {
        "version": CHECKPOINT_VERSION,
        "epochs_done": saved.epochs_done,
        "history": saved.history,
        "best": saved.best,
        "best_epoch": saved.best_epoch,
        "wait": saved.wait,
        "model": len(saved.model),
        "optimizer": len(saved.optimizer),
        "best_weights": None if saved.best_weights is None else len(saved.best_weights),
        "snapshots": sorted(saved.snapshots),
    }
    arrays = {STATE_KEY: np.frombuffer(json.dumps(state).encode(), np.uint8)}
    arrays.update({f"model_{i}": a for i, a in enumerate(saved.model)})
    arrays.update({f"optimizer_{i}": a for i, a in enumerate(saved.optimizer)})
    for i, array in enumerate(saved.best_weights or ()):
        arrays[f"best_{i}"] = array
    for epoch, picture in saved.snapshots.items():
        arrays[f"snapshot_{epoch}"] = picture
    write_atomic(Path(path), lambda handle: np.savez(handle, **arrays))


def read_checkpoint(path: Path) -> Saved | None:
    """The state ``path`` holds, None when there is no file; raises
    ValueError for a file this version cannot continue from."""
    path = Path(path)
    if not path.is_file():
        return None
    try:
        with np.load(path, allow_pickle=False) as npz:
            state = json.loads(npz[STATE_KEY].tobytes())
            if state.get("version") != CHECKPOINT_VERSION:
                raise ValueError("it was written by another version")
            best = state["best_weights"]
            return Saved(
                epochs_done=int(state["epochs_done"]),
                model=[npz[f"model_{i}"] for i in range(state["model"])],
                optimizer=[npz[f"optimizer_{i}"] for i in range(state["optimizer"])],
                history=list(state["history"]),
                snapshots={e: npz[f"snapshot_{e}"] for e in state["snapshots"]},
                best=state["best"],
                best_epoch=int(state["best_epoch"]),
                wait=int(state["wait"]),
                best_weights=None
                if best is None
                else [npz[f"best_{i}"] for i in range(best)],
            )
    except (OSError, KeyError, TypeError, ValueError) as error:
        raise ValueError(
            f"the checkpoint {path} cannot be continued from ({error}); "
            "start afresh with --restart"
        ) from None


def restore(
    model: Any, saved: Saved, batches: Any, log: RunLog, callbacks: list[Any]
) -> None:
    """Put ``saved`` back: ``model``'s variables and its optimizer's (built
    first), the ``log`` of the epochs done, and ``batches``' shuffled order
    advanced past them. Keep-best's state goes back when ``fit`` starts:
    the :class:`EpochCheckpoint` among ``callbacks`` does it after Keras
    resets it."""
    _assign(model.variables, saved.model, "model")
    optimizer = model.optimizer
    if not optimizer.built:
        optimizer.build(model.trainable_variables)
    _assign(optimizer.variables, saved.optimizer, "optimizer")
    log.history[:] = saved.history
    log.snapshots.update(saved.snapshots)
    for _ in range(saved.epochs_done):
        batches.on_epoch_end()  # the order each finished epoch drew
    for callback in callbacks:
        if isinstance(callback, EpochCheckpoint):
            callback.resumed = saved


def _assign(variables: list[Any], values: list[np.ndarray], what: str) -> None:
    """Give each of ``variables`` its saved value; raises ValueError when
    they do not match in number and shapes."""
    if len(variables) != len(values) or any(
        tuple(v.shape) != a.shape for v, a in zip(variables, values, strict=True)
    ):
        raise ValueError(
            f"the checkpoint's {what} does not match this run's; start afresh "
            "with --restart"
        )
    for variable, value in zip(variables, values, strict=True):
        variable.assign(value)


def _values(variables: list[Any]) -> list[np.ndarray]:
    """The current values of ``variables``."""
    return [keras.ops.convert_to_numpy(v) for v in variables]


class EpochCheckpoint(keras.callbacks.Callback):
    """Writes the run's state to ``path`` as each epoch after the first
    begins (``main`` only), and puts keep-best's state back when ``fit``
    starts from a checkpoint (:func:`restore` sets ``resumed``).

    Placed last among the callbacks: by then the averaged weights are
    swapped out of the model (SwapEMAWeights comes first) and keep-best has
    judged the epoch. Reads the model through ``self.model``, which on JAX
    copies the training state back into the variables (once an epoch).
    """

    def __init__(
        self,
        path: Path,
        log: RunLog,
        main: bool,
        on_saved: Any = None,
    ) -> None:
        super().__init__()
        self.path, self.log, self.main = Path(path), log, main
        self.on_saved = on_saved  # called with the epochs done after each write
        self.resumed: Saved | None = None
        self.first_epoch = 0

    def _keep_best(self) -> keras.callbacks.EarlyStopping | None:
        for callback in self._callbacks:
            if isinstance(callback, keras.callbacks.EarlyStopping):
                return callback
        return None

    def on_train_begin(self, logs: Any = None) -> None:
        keep_best = self._keep_best()
        saved = self.resumed
        self.first_epoch = saved.epochs_done if saved is not None else 0
        if keep_best is None or saved is None or saved.best is None:
            return
        keep_best.best, keep_best.wait = saved.best, saved.wait
        keep_best.best_epoch = saved.best_epoch
        keep_best.best_weights = saved.best_weights

    def on_epoch_begin(self, epoch: int, logs: Any = None) -> None:
        if not self.main or epoch <= self.first_epoch:
            return
        model = self.model
        keep_best = self._keep_best()
        saved = Saved(
            epochs_done=epoch,
            # Weights and every other state, the seeds' included.
            model=_values(model.variables),
            optimizer=_values(model.optimizer.variables),
            history=list(self.log.history),
            snapshots=dict(self.log.snapshots),
        )
        if keep_best is not None and keep_best.best is not None:
            saved.best, saved.wait = float(keep_best.best), int(keep_best.wait)
            saved.best_epoch = int(keep_best.best_epoch)
            saved.best_weights = keep_best.best_weights
        write_checkpoint(self.path, saved)
        if self.on_saved is not None:
            self.on_saved(epoch)

    def set_callbacks(self, callbacks: list[Any]) -> None:
        """The other callbacks of the run (keep-best is found among them)."""
        self._callbacks = callbacks
