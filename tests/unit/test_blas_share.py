"""The NumPy decoder's block threads share the cores with BLAS: while blocks run
on several threads each BLAS call gets its share, and the earlier setting comes
back afterwards, also when several decodes overlap."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import pytest
from threadpoolctl import threadpool_info, threadpool_limits

from vaeapp.inference import blocks


def _blas_threads() -> set[int]:
    """The thread counts of the BLAS libraries loaded (one per library)."""
    return {i["num_threads"] for i in threadpool_info() if i["user_api"] == "blas"}


@pytest.fixture
def three_blas_threads(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """BLAS set to 3 threads, two block threads on a 4-core machine."""
    if not _blas_threads():
        pytest.skip("threadpoolctl finds no BLAS library to limit")
    monkeypatch.setattr(blocks, "BLOCK_THREADS", 2)
    monkeypatch.setattr(blocks.os, "sched_getaffinity", lambda pid: {0, 1, 2, 3})
    with threadpool_limits(limits=3, user_api="blas"):
        yield


@pytest.mark.usefixtures("three_blas_threads")
def test_blocks_on_two_threads_run_blas_on_their_share_of_the_cores() -> None:
    """With 2 block threads on 4 cores each BLAS call gets 2 threads while the
    blocks run, and the 3 set before come back after."""
    seen: list[set[int]] = []

    def block(rows: np.ndarray) -> np.ndarray:
        seen.append(_blas_threads())
        return rows

    x = np.zeros((5 * blocks.CONV_BLOCK, 4), np.float32)
    np.testing.assert_array_equal(blocks.in_blocks(block, x, 4), x)
    assert seen == [{2}] * 5
    assert _blas_threads() == {3}


@pytest.mark.usefixtures("three_blas_threads")
def test_overlapping_decodes_restore_the_setting_only_when_the_last_ends() -> None:
    """Two decodes at once: the first to end leaves the limit for the other,
    the last restores the earlier setting."""
    share = blocks.BLAS_SHARE
    share.__enter__()
    share.__enter__()
    assert _blas_threads() == {2}
    share.__exit__(None, None, None)
    assert _blas_threads() == {2}
    share.__exit__(None, None, None)
    assert _blas_threads() == {3}


def test_one_block_thread_leaves_blas_alone(monkeypatch: pytest.MonkeyPatch) -> None:
    """With a single block thread BLAS keeps all its threads: it is then the
    only parallel work."""
    monkeypatch.setattr(blocks, "BLOCK_THREADS", 1)
    before = _blas_threads()
    seen: list[set[int]] = []

    def block(rows: np.ndarray) -> np.ndarray:
        seen.append(_blas_threads())
        return rows

    blocks.in_blocks(block, np.zeros((3 * blocks.CONV_BLOCK, 2)), 2)
    assert seen == [before] * 3


@pytest.mark.usefixtures("three_blas_threads")
def test_small_products_inside_a_share_take_the_smaller_limit(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """On a busy machine, a refinement (1 thread) while blocks hold their
    share (2): BLAS gets 1, then 2 again when the refinement ends, then the 3
    set before."""
    monkeypatch.setattr(blocks.os, "getloadavg", lambda: (8.0, 8.0, 8.0))
    with blocks.BLAS_SHARE:
        assert _blas_threads() == {2}
        with blocks.SMALL_PRODUCTS:
            assert _blas_threads() == {1}
        assert _blas_threads() == {2}
    assert _blas_threads() == {3}


@pytest.fixture(scope="module")
def shipped_model():
    from vaeapp.store.listing import best_pretrained
    from vaeapp.store.reading import load_model

    return load_model(best_pretrained())


@pytest.mark.usefixtures("three_blas_threads")
@pytest.mark.parametrize(
    ("images", "load", "one_thread"),
    [(1, 4.0, True), (1, 3.9, False), (300, 9.0, False)],
)
def test_refining_one_picture_on_a_busy_machine_runs_blas_on_one_thread(
    monkeypatch: pytest.MonkeyPatch,
    shipped_model,
    images: int,
    load: float,
    one_thread: bool,
) -> None:
    """Refining one picture's q (8 rows a product) while the load average
    reaches the 4 cores runs every product on one BLAS thread; below it, or
    refining 300 images (2,048 rows), BLAS keeps its 3 threads; the 3 come
    back after."""
    from vaeapp.core.config import RefineConfig
    from vaeapp.inference import refinement

    seen: set[int] = set()
    original = refinement.reconstruction_and_grad

    def spy(*args, **kwargs):
        seen.update(_blas_threads())
        return original(*args, **kwargs)

    monkeypatch.setattr(refinement, "reconstruction_and_grad", spy)
    monkeypatch.setattr(blocks.os, "getloadavg", lambda: (load, load, load))
    vae = shipped_model.vae
    x = np.random.default_rng(0).random((images, vae.config.n_pixels), np.float32)
    config = RefineConfig(steps=2, draws=8)
    refinement.refine(vae, x, *vae.encode(x), config)
    assert seen == ({1} if one_thread else {3})
    assert _blas_threads() == {3}
