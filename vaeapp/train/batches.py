"""Training batches for ``fit``: shuffled each epoch, grouped into chunks.

A chunk is ``(steps, batch, 784)``: ``steps`` consecutive batches that
:meth:`vaeapp.model.vae.VAE.train_step` trains on one after another inside one
compiled call, so XLA runs the loop over batches itself instead of being
launched once per batch from TensorFlow's graph loop (``python -m bench.training_speed``
times the difference; the README has the figures).

Every image is seen once per epoch, in a new order drawn from the seed; when
the image count is not a multiple of the batch size, the last, smaller batch
comes as its own chunk ``(1, remainder, 784)``, as ``fit`` would give it.

For a data-parallel run (:mod:`vaeapp.train.distributed`) every process builds this
with the same seed and its own ``shard``: all draw the same order of all the
images, cut it into global batches of ``batch_size x processes``, and each
takes its own consecutive ``batch_size`` rows of every global batch (as
PyTorch's ``DistributedSampler`` shares one seeded order). The global batches
are then exactly those of one process with the global batch size, which is
why a two-process run gives that run's weights. An incomplete last global
batch is left out (a different one each epoch), since it cannot be split
evenly. On the JAX backend the items are plain batches ``(batch, 784)``:
Keras's JAX trainer runs its own loop of ``steps_per_execution`` batches.
"""

from __future__ import annotations

import keras
import numpy as np


class ShuffledChunks(keras.utils.PyDataset):
    """Chunks of shuffled batches of ``x`` ``(n, 784)``, as a Keras PyDataset.

    Item ``i`` is a float32 array ``(steps, batch_size, 784)`` with ``steps``
    at most ``steps_per_chunk`` (with ``chunked`` False, one batch
    ``(batch_size, 784)``); the order changes after every epoch. ``shard``
    ``(index, count)`` is this process's part of each global batch;
    ``drop_remainder`` leaves out an incomplete last batch (always done when
    ``count`` > 1).
    """

    def __init__(
        self,
        x: np.ndarray,
        batch_size: int,
        steps_per_chunk: int,
        seed: int,
        *,
        shard: tuple[int, int] = (0, 1),
        chunked: bool = True,
        drop_remainder: bool = False,
    ) -> None:
        super().__init__()
        if batch_size < 1 or steps_per_chunk < 1:
            raise ValueError(
                f"batch size and steps per chunk must be at least 1, got "
                f"{batch_size} and {steps_per_chunk}"
            )
        index, count = shard
        if not 0 <= index < count:
            raise ValueError(f"shard {index} of {count} does not exist")
        if x.shape[0] < 1:
            raise ValueError("there are no training images to make batches from")
        if x.shape[0] < batch_size * count and (count > 1 or drop_remainder):
            raise ValueError(
                f"there are {x.shape[0]} training images, fewer than one global "
                f"batch of {batch_size * count} ({batch_size} per process)"
            )
        self.x = x
        self.batch_size = batch_size
        self.shard = (index, count)
        self.chunked = chunked
        self.rng = np.random.default_rng(seed)
        global_batch = batch_size * count
        full = x.shape[0] // global_batch
        steps = steps_per_chunk if chunked else 1
        self.bounds: list[tuple[int, int]] = [
            (start, min(start + steps, full)) for start in range(0, full, steps)
        ]
        dropped = drop_remainder or count > 1
        self.remainder = 0 if dropped else x.shape[0] - full * global_batch
        self.order = self.rng.permutation(x.shape[0])

    @property
    def steps_per_epoch(self) -> int:
        """Optimizer steps per epoch: batches, the smaller last one included."""
        return (self.bounds[-1][1] if self.bounds else 0) + (1 if self.remainder else 0)

    def __len__(self) -> int:
        return len(self.bounds) + (1 if self.remainder else 0)

    def __getitem__(self, index: int) -> np.ndarray:
        if not 0 <= index < len(self):
            raise IndexError(f"chunk {index} out of range 0..{len(self) - 1}")
        if index == len(self.bounds):
            last = self.x[self.order[-self.remainder :]]
            return last[np.newaxis] if self.chunked else last
        first, last = self.bounds[index]
        part, count = self.shard
        # (steps, count, batch) row numbers: step t's global batch, split
        # into each process's consecutive part.
        global_rows = self.order[
            first * self.batch_size * count : last * self.batch_size * count
        ].reshape(last - first, count, self.batch_size)
        rows = global_rows[:, part]
        batches = self.x[rows.ravel()].reshape(last - first, self.batch_size, -1)
        return batches if self.chunked else batches[0]

    def on_epoch_end(self) -> None:
        self.order = self.rng.permutation(self.x.shape[0])
