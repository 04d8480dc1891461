"""Training batches for ``fit``: shuffled each epoch, grouped into chunks.

A chunk is ``(steps, batch, 784)``: ``steps`` consecutive batches that
:meth:`vaeapp.model.vae.VAE.train_step` trains on one after another inside one
compiled call, so XLA runs the loop over batches itself instead of being
launched once per batch from TensorFlow's graph loop (``python -m bench.training_speed``
times the difference; the README has the figures).

Every image is seen once per epoch, in a new order drawn from the seed; when
the image count is not a multiple of the batch size, the smaller batch comes
as its own chunk ``(1, remainder, 784)``, first: Keras reads the shapes of
the items from the first two, and would otherwise fix the batch size to that
of the full chunks and refuse the smaller one at the end (which happened
whenever an epoch had over two chunks).

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

Images may be a float32 array, a uint8 array, or a streamed image folder
(:class:`vaeapp.data.folder_cache.StreamedImages`); uint8 pixels become float32
in [0, 1] one chunk at a time, so no float32 copy of the set is ever made. A
streamed folder is read by READ_THREADS threads of the PyDataset (reading is
a system call per image, which releases the GIL), a few chunks ahead. In a
data-parallel run on a streamed set each process trains on its own share of
the files instead: the cache chunks :func:`vaeapp.data.folder_cache.chunk_owner`
gives it, shuffled with the seed and its process index each epoch, so it
never reads another process's training images; every process takes the same
number of batches (the smallest share's), so the steps stay in lockstep. A
streamed array file (``.npz``, IDX; ``by_chunks`` False) keeps the sharing of
an array in memory: each process reads only its part of every global batch.
"""

from __future__ import annotations

from typing import Any

import keras
import numpy as np

from vaeapp.data.folder_cache import StreamedImages, chunk_owner

READ_THREADS = 2
READ_AHEAD = 4  # chunks queued ahead of the training step


def subset_rows(rows: np.ndarray, size: int, seed: int) -> np.ndarray:
    """The rows to train on: all of ``rows``, or ``size`` of them drawn with
    ``seed`` (as :func:`vaeapp.train.loop.subset` draws images)."""
    if size == 0 or size >= rows.size:
        return rows
    rng = np.random.default_rng(seed)
    return rows[np.sort(rng.permutation(rows.size)[:size])]


def as_float(images: np.ndarray) -> np.ndarray:
    """``images`` as float32 in [0, 1]: uint8 pixels divided by 255."""
    if images.dtype == np.uint8:
        return images.astype(np.float32) / np.float32(255.0)
    return images


class ShuffledChunks(keras.utils.PyDataset):
    """Chunks of shuffled batches of ``x`` ``(n, 784)``, as a Keras PyDataset.

    Item ``i`` is a float32 array ``(steps, batch_size, 784)`` with ``steps``
    at most ``steps_per_chunk`` (with ``chunked`` False, one batch
    ``(batch_size, 784)``); the order changes after every epoch. ``rows``
    (default all) are the rows of ``x`` to train on. ``shard``
    ``(index, count)`` is this process's part of each global batch (its own
    share of a streamed set's files); ``drop_remainder`` leaves out an
    incomplete last batch (always done when ``count`` > 1).
    """

    def __init__(
        self,
        x: Any,
        batch_size: int,
        steps_per_chunk: int,
        seed: int,
        *,
        rows: np.ndarray | None = None,
        shard: tuple[int, int] = (0, 1),
        chunked: bool = True,
        drop_remainder: bool = False,
    ) -> None:
        streamed = isinstance(x, StreamedImages)
        # A folder's chunks are read by threads; a streamed array file as an
        # array in memory, in the loop's own thread: with reader threads a
        # run resumed after a kill no longer equalled an uninterrupted one
        # (tests/multiprocess/test_resume_data_parallel.py on an .npz).
        threaded = streamed and x.by_chunks
        super().__init__(
            workers=READ_THREADS if threaded else 1,
            max_queue_size=READ_AHEAD if threaded else 10,
        )
        if batch_size < 1 or steps_per_chunk < 1:
            raise ValueError(
                f"batch size and steps per chunk must be at least 1, got "
                f"{batch_size} and {steps_per_chunk}"
            )
        index, count = shard
        if not 0 <= index < count:
            raise ValueError(f"shard {index} of {count} does not exist")
        self.rows = np.arange(x.shape[0]) if rows is None else np.asarray(rows)
        self.x = x
        self.batch_size = batch_size
        self.shard = (index, count)
        self.chunked = chunked
        # A streamed set shared out by files; otherwise one order for all.
        self.own_share = streamed and count > 1 and x.by_chunks
        if self.own_share:
            owner = chunk_owner(x.chunks(self.rows), count)
            shares = np.bincount(owner, minlength=count)
            self.rows = self.rows[owner == index]
            self.rng = np.random.default_rng([seed, index])
            global_batch, available = batch_size, int(shares.min())
        else:
            self.rng = np.random.default_rng(seed)
            global_batch, available = batch_size * count, self.rows.size
        if self.rows.size < 1:
            raise ValueError("there are no training images to make batches from")
        if available < global_batch and (count > 1 or drop_remainder):
            raise ValueError(
                f"there are {available} training images, fewer than one global "
                f"batch of {batch_size * count} ({batch_size} per process)"
            )
        full = available // global_batch
        steps = steps_per_chunk if chunked else 1
        self.bounds: list[tuple[int, int]] = [
            (start, min(start + steps, full)) for start in range(0, full, steps)
        ]
        dropped = drop_remainder or count > 1
        self.remainder = 0 if dropped else self.rows.size - full * global_batch
        self.order = self.rng.permutation(self.rows.size)

    @property
    def steps_per_epoch(self) -> int:
        """Optimizer steps per epoch: batches, the smaller one included."""
        return (self.bounds[-1][1] if self.bounds else 0) + (1 if self.remainder else 0)

    def __len__(self) -> int:
        return len(self.bounds) + (1 if self.remainder else 0)

    def _images(self, positions: np.ndarray) -> np.ndarray:
        """The images at ``positions`` of this set's rows, float32 ``(k, d)``."""
        return as_float(np.asarray(self.x[self.rows[positions]]))

    def __getitem__(self, index: int) -> np.ndarray:
        if not 0 <= index < len(self):
            raise IndexError(f"chunk {index} out of range 0..{len(self) - 1}")
        if self.remainder:
            if index == 0:  # the smaller batch first (see the module docstring)
                small = self._images(self.order[-self.remainder :])
                return small[np.newaxis] if self.chunked else small
            index -= 1
        first, last = self.bounds[index]
        size = self.batch_size
        if self.own_share:
            positions = self.order[first * size : last * size]
        else:
            part, count = self.shard
            # (steps, count, batch) positions: step t's global batch, split
            # into each process's consecutive part.
            global_rows = self.order[first * size * count : last * size * count]
            positions = global_rows.reshape(last - first, count, size)[:, part]
        batches = self._images(positions.ravel()).reshape(last - first, size, -1)
        return batches if self.chunked else batches[0]

    def on_epoch_end(self) -> None:
        self.order = self.rng.permutation(self.rows.size)
