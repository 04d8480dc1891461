"""Training batches for ``fit``: shuffled each epoch, grouped into chunks.

A chunk is ``(steps, batch, 784)``: ``steps`` consecutive batches that
:meth:`vaeapp.model.VAE.train_step` trains on one after another inside one
compiled call, so XLA runs the loop over batches itself instead of being
launched once per batch from TensorFlow's graph loop (``python -m vaeapp.bench``
times the difference; the README has the figures).

Every image is seen once per epoch, in a new order drawn from the seed; when
the image count is not a multiple of the batch size, the last, smaller batch
comes as its own chunk ``(1, remainder, 784)``, as ``fit`` would give it.
"""

from __future__ import annotations

import math

import keras
import numpy as np


class ShuffledChunks(keras.utils.PyDataset):
    """Chunks of shuffled batches of ``x`` ``(n, 784)``, as a Keras PyDataset.

    Item ``i`` is a float32 array ``(steps, batch_size, 784)`` with ``steps``
    at most ``steps_per_chunk``; the order changes after every epoch.
    """

    def __init__(
        self, x: np.ndarray, batch_size: int, steps_per_chunk: int, seed: int
    ) -> None:
        super().__init__()
        if batch_size < 1 or steps_per_chunk < 1:
            raise ValueError(
                f"batch size and steps per chunk must be at least 1, got "
                f"{batch_size} and {steps_per_chunk}"
            )
        if x.shape[0] < 1:
            raise ValueError("there are no training images to make batches from")
        self.x = x
        self.batch_size = batch_size
        self.rng = np.random.default_rng(seed)
        full = x.shape[0] // batch_size
        self.bounds: list[tuple[int, int]] = [
            (start, min(start + steps_per_chunk, full))
            for start in range(0, full, steps_per_chunk)
        ]
        self.remainder = x.shape[0] - full * batch_size
        self.order = self.rng.permutation(x.shape[0])

    @property
    def steps_per_epoch(self) -> int:
        """Optimizer steps per epoch: batches, the smaller last one included."""
        return math.ceil(self.x.shape[0] / self.batch_size)

    def __len__(self) -> int:
        return len(self.bounds) + (1 if self.remainder else 0)

    def __getitem__(self, index: int) -> np.ndarray:
        if not 0 <= index < len(self):
            raise IndexError(f"chunk {index} out of range 0..{len(self) - 1}")
        if index == len(self.bounds):
            return self.x[self.order[-self.remainder :]][np.newaxis]
        first, last = self.bounds[index]
        rows = self.order[first * self.batch_size : last * self.batch_size]
        return self.x[rows].reshape(last - first, self.batch_size, -1)

    def on_epoch_end(self) -> None:
        self.order = self.rng.permutation(self.x.shape[0])
