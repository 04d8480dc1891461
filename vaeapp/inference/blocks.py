"""Feature-map layers run on blocks of images, the blocks on a few threads that
share BLAS's threads between them.

:mod:`vaeapp.inference.numpy_vae` passes each run of feature-map layers to
:func:`in_blocks` (CONV_BLOCK images at a time) and holds :data:`BLAS_SHARE`
around a whole pass whose blocks run on several threads
(:func:`blocks_threaded`).
"""

from __future__ import annotations

import functools
import os
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import numpy as np
from threadpoolctl import ThreadpoolController

# Images per block in the convolution layers: each block goes through all of
# a run of feature-map layers before the next (see numpy_vae._forward), so its maps, a
# few MB, stay in the CPU's cache instead of each layer writing arrays for the
# whole batch (a 900-point grid of the conv preset's would be 200 MB).
CONV_BLOCK = 16


def _threads_setting() -> int:
    """VAEAPP_BLOCK_THREADS as a whole number from 1 to 8 (default 2)."""
    try:
        return min(max(int(os.environ.get("VAEAPP_BLOCK_THREADS", "2")), 1), 8)
    except ValueError:
        return 2


# Threads that run blocks at once: NumPy's element-wise steps (adding taps,
# activations) use one core each, so two blocks at a time keep both of a
# 2-core machine's cores busy between matrix products.
BLOCK_THREADS = _threads_setting()


def in_blocks(
    block: Callable[[np.ndarray], np.ndarray], x: np.ndarray, n_out: int
) -> np.ndarray:
    """``block`` applied to ``x`` ``(n, n_in)`` CONV_BLOCK rows at a time,
    giving ``(n, n_out)``; blocks shared among BLOCK_THREADS threads (with
    their share of BLAS's threads, see _BlasShare)."""
    if x.shape[0] <= CONV_BLOCK:
        return block(x)
    out = np.empty((x.shape[0], n_out), np.float32)

    def run(start: int) -> None:
        out[start : start + CONV_BLOCK] = block(x[start : start + CONV_BLOCK])

    starts = range(0, x.shape[0], CONV_BLOCK)
    if BLOCK_THREADS > 1:
        with BLAS_SHARE:
            for _ in _block_pool().map(run, starts):
                pass
    else:
        for start in starts:
            run(start)
    return out


def blocks_threaded(n_rows: int) -> bool:
    """Whether :func:`in_blocks` runs ``n_rows`` rows as several blocks on
    several threads, and so inside BLAS_SHARE (the test it makes itself)."""
    return BLOCK_THREADS > 1 and n_rows > CONV_BLOCK


@functools.cache
def _block_pool() -> ThreadPoolExecutor:
    return ThreadPoolExecutor(BLOCK_THREADS, thread_name_prefix="vaeapp-blocks")


class _BlasShare:
    """While any thread is inside ``with BLAS_SHARE``, each BLAS call (NumPy's
    OpenBLAS, or whichever BLAS threadpoolctl finds) uses at most the cores
    divided by BLOCK_THREADS; the last thread out restores the earlier limit.

    Why: the blocks already run on BLOCK_THREADS threads. With OpenBLAS's
    default of one thread per core on top, each block's small products (1,024
    to 16,384 rows) hand out work to, and spin-wait for, threads that compete
    with the other block for the same cores: a 15x15 grid of 32x32x3 images
    took 112 ms against 45 ms with one BLAS thread on a 2-core machine (see
    docs/benchmarks.md). The limit is process-wide, hence counted: sessions
    decoding at once share one limit, and the earlier setting comes back only
    when none is left inside.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._inside = 0
        self._limiter: Any = None  # threadpoolctl's limiter while any is inside

    def __enter__(self) -> None:
        with self._lock:
            if self._inside == 0:
                self._limiter = _blas_controller().limit(
                    limits=_blas_threads_per_block(), user_api="blas"
                )
            self._inside += 1

    def __exit__(self, *exc: object) -> None:
        with self._lock:
            self._inside -= 1
            if self._inside == 0 and self._limiter is not None:
                self._limiter.restore_original_limits()
                self._limiter = None


BLAS_SHARE = _BlasShare()


@functools.cache
def _blas_controller() -> ThreadpoolController:
    """The BLAS libraries loaded in this process, found once (about 1 ms)."""
    return ThreadpoolController()


def _blas_threads_per_block() -> int:
    """This process's cores shared among the BLOCK_THREADS block threads."""
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else 0
    return max((cores or os.cpu_count() or 1) // BLOCK_THREADS, 1)
