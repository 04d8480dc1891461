"""Feature-map layers run on blocks of images, the blocks on a few threads that
share BLAS's threads between them.

:mod:`vaeapp.inference.numpy_vae` passes each run of feature-map layers to
:func:`in_blocks` (CONV_BLOCK images at a time) and holds :data:`BLAS_SHARE`
around a whole pass whose blocks run on several threads
(:func:`blocks_threaded`).
"""

from __future__ import annotations

import collections
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
    their share of BLAS's threads, see BLAS_SHARE)."""
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


class _BlasLimits:
    """BLAS thread limits (NumPy's OpenBLAS, or whichever BLAS threadpoolctl
    finds) held by several threads at once. The limit is process-wide, so
    holds are counted: while any is held, BLAS uses at most the smallest
    limit held, and the setting from before the first comes back when the
    last is let go. Sessions decoding and refining at once share it."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._held: collections.Counter[int] = collections.Counter()
        self._limiter: Any = None  # threadpoolctl's, from the first hold on
        self._applied: int | None = None

    def take(self, limit: int) -> None:
        """Hold ``limit`` (at least 1) until :meth:`release`."""
        with self._lock:
            self._held[limit] += 1
            self._apply()

    def release(self, limit: int) -> None:
        """Let go of one hold of ``limit``."""
        with self._lock:
            self._held[limit] -= 1
            if self._held[limit] <= 0:
                del self._held[limit]
            self._apply()

    def _apply(self) -> None:
        if not self._held:
            if self._limiter is not None:
                self._limiter.restore_original_limits()
            self._limiter, self._applied = None, None
            return
        want = min(self._held)
        if want == self._applied:
            return
        limiter = _blas_controller().limit(limits=want, user_api="blas")
        # The first limiter keeps the setting from before every hold.
        self._limiter = self._limiter or limiter
        self._applied = want


_BLAS_LIMITS = _BlasLimits()


class _BlasHold:
    """``with`` this: BLAS uses at most ``limit()`` threads inside (counted
    with every other hold, :class:`_BlasLimits`); BLAS is left alone when
    ``limit()`` is None."""

    def __init__(self, limit: Callable[[], int | None]) -> None:
        self._limit = limit  # None: no limit this time
        self._taken = threading.local()

    def __enter__(self) -> None:
        limit = self._limit()
        limit = None if limit is None else max(int(limit), 1)
        self._taken.__dict__.setdefault("stack", []).append(limit)
        if limit is not None:
            _BLAS_LIMITS.take(limit)

    def __exit__(self, *exc: object) -> None:
        limit = self._taken.stack.pop()
        if limit is not None:
            _BLAS_LIMITS.release(limit)


# While the blocks of one pass run on BLOCK_THREADS threads, each BLAS call
# uses at most the cores divided by BLOCK_THREADS. Why: with OpenBLAS's
# default of one thread per core on top, each block's small products (1,024
# to 16,384 rows) hand out work to, and spin-wait for, threads that compete
# with the other block for the same cores: a 15x15 grid of 32x32x3 images
# took 112 ms against 45 ms with one BLAS thread on a 2-core machine (see
# docs/benchmarks.md).
BLAS_SHARE = _BlasHold(lambda: _blas_threads_per_block())


def _small_products_threads() -> int | None:
    """BLAS threads for many products of a few rows: one while the machine is
    busy (its 1-minute load average at least its cores), else no limit.

    Why: with idle cores, a second BLAS thread makes refining one picture
    1.5x faster (46 against 72 ms); on a machine loaded by other sessions
    the threads hand out slivers of work and spin on cores others need, and
    one thread is 9x faster (0.5 against 4.2-5.1 s; docs/page-speed.md).
    """
    try:
        load = os.getloadavg()[0]
    except (AttributeError, OSError):  # no load average here (Windows)
        return None
    return 1 if load >= _usable_cores() else None


# Around work made of many products of a few rows (refining one picture's q:
# 50 steps on 8 rows).
SMALL_PRODUCTS = _BlasHold(_small_products_threads)


@functools.cache
def _blas_controller() -> ThreadpoolController:
    """The BLAS libraries loaded in this process, found once (about 1 ms)."""
    return ThreadpoolController()


def _usable_cores() -> int:
    """The cores this process may run on."""
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else 0
    return cores or os.cpu_count() or 1


def _blas_threads_per_block() -> int:
    """This process's cores shared among the BLOCK_THREADS block threads."""
    return max(_usable_cores() // BLOCK_THREADS, 1)
