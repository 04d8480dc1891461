"""Chunked training: shuffled batch chunks, and a chunk step equal to batch steps."""

from __future__ import annotations

import numpy as np
import pytest

from vaeapp.core.config import ModelConfig


@pytest.fixture(scope="module")
def batches():
    import vaeapp.train.batches

    return vaeapp.train.batches


def rows_of(x: np.ndarray) -> np.ndarray:
    """A row id per image: the images below hold their index in pixel 0."""
    return x[..., 0].astype(int).ravel()


def indexed_images(n: int) -> np.ndarray:
    x = np.zeros((n, 784), np.float32)
    x[:, 0] = np.arange(n)
    return x


def test_chunks_cover_every_image_once_with_a_short_first_batch(batches):
    """1050 images, batch 100, 4 per chunk: 50 first (so that Keras, which
    reads the shapes from the first two items, lets the batch size vary),
    then chunks of 4, 4, 2 batches."""
    chunks = batches.ShuffledChunks(indexed_images(1050), 100, 4, seed=0)
    shapes = [chunks[i].shape for i in range(len(chunks))]
    assert shapes == [(1, 50, 784), (4, 100, 784), (4, 100, 784), (2, 100, 784)]
    assert chunks.steps_per_epoch == 11
    seen = np.concatenate([rows_of(chunks[i]) for i in range(len(chunks))])
    assert sorted(seen) == list(range(1050))


def test_order_changes_each_epoch_and_repeats_with_the_seed(batches):
    """A new order after each epoch; the same seed gives the same orders."""
    first, again = (
        batches.ShuffledChunks(indexed_images(300), 50, 2, seed=7) for _ in range(2)
    )
    epoch1 = rows_of(first[0])
    assert np.array_equal(epoch1, rows_of(again[0]))
    first.on_epoch_end()
    epoch2 = np.concatenate([rows_of(first[i]) for i in range(len(first))])
    assert not np.array_equal(epoch1, epoch2[: epoch1.size])
    assert sorted(epoch2) == list(range(300))


@pytest.mark.parametrize(("n", "batch", "steps"), [(10, 0, 1), (10, 5, 0), (0, 5, 1)])
def test_bad_sizes_are_refused(batches, n, batch, steps):
    """Zero batch size, zero steps per chunk or no images raise ValueError."""
    with pytest.raises(ValueError, match="batch|images"):
        batches.ShuffledChunks(indexed_images(n), batch, steps, seed=0)


def test_index_past_the_end_raises_index_error(batches):
    """Indexing past the last chunk raises IndexError, as a sequence should."""
    chunks = batches.ShuffledChunks(indexed_images(10), 5, 1, seed=0)
    with pytest.raises(IndexError):
        chunks[len(chunks)]


def test_chunk_step_equals_the_same_batches_one_by_one():
    """Training on a chunk of 3 batches gives the weights of 3 single-batch steps."""
    import keras

    from vaeapp.model.vae import VAE

    x = np.random.default_rng(0).random((3, 16, 784), dtype=np.float32)

    def fresh() -> VAE:
        keras.utils.set_random_seed(1)
        model = VAE(ModelConfig(hidden=(32,)), seed=3)
        model.compile(optimizer=keras.optimizers.Adam(1e-2), jit_compile=True)
        return model

    chunked, stepped = fresh(), fresh()
    logs = chunked.train_on_batch(x, return_dict=True)
    losses = [stepped.train_on_batch(batch, return_dict=True)["loss"] for batch in x]
    for a, b in zip(chunked.get_weights(), stepped.get_weights(), strict=True):
        np.testing.assert_allclose(a, b, atol=1e-5)
    assert chunked.optimizer.iterations.numpy() == 3
    assert logs["loss"] == pytest.approx(np.mean(losses), rel=1e-5)


@pytest.mark.parametrize(
    ("batch", "steps"), [(1, 100), (100, 100), (128, 78), (1024, 9), (60_000, 1)]
)
def test_automatic_chunks_hold_at_most_ten_thousand_images(batch, steps):
    """Automatic chunks: up to 100 batches and 10,000 images, at least 1 batch."""
    from vaeapp.train.engine import auto_steps_per_chunk

    assert auto_steps_per_chunk(batch) == steps


def test_fit_takes_an_epoch_of_several_chunks_and_a_smaller_batch():
    """1050 images in chunks of 2 batches of 100 and one of 50: fit trains
    all 11 batches (the smaller one used to be refused at the end, because
    Keras fixed the batch size from the first two chunks)."""
    import keras

    from vaeapp.model.vae import VAE
    from vaeapp.train.batches import ShuffledChunks

    x = np.random.default_rng(0).random((1050, 784), dtype=np.float32)
    model = VAE(ModelConfig(hidden=(8,)), seed=3)
    model.compile(optimizer=keras.optimizers.Adam(1e-3), jit_compile=False)
    model.fit(ShuffledChunks(x, 100, 2, seed=0), epochs=1, verbose=0)
    assert model.optimizer.iterations.numpy() == 11


@pytest.mark.parametrize(
    ("values", "batch", "steps"), [(784, 128, 78), (3072, 128, 19), (12288, 128, 4)]
)
def test_automatic_chunks_of_larger_images_hold_as_many_bytes(values, batch, steps):
    """Images of more values: fewer in a chunk, so it stays about 31 MB."""
    from vaeapp.train.engine import auto_steps_per_chunk

    assert auto_steps_per_chunk(batch, values) == steps
