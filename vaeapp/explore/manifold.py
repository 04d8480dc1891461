"""The manifold grid: decoded images at regularly spaced latent points.

As in the Keras tutorial, coordinates are Gaussian quantiles
``norm.ppf(linspace(q, 1 - q, n))``, so the grid covers the prior's mass
evenly; linear spacing between the same end points is offered too. Where a
model's encodings do not fill the prior (or reach beyond it), the grid can
instead span the quantiles ``q .. 1 - q`` of the encoded test set itself,
axis by axis ("data" spacing).
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Callable

import numpy as np

from vaeapp.core.config import MNIST_SHAPE

GRID_N_DEFAULT, GRID_N_MAX = 15, 30
GRID_Q_DEFAULT = 0.05
PRIOR_SPACINGS = ("quantile", "linear")  # the prior's quantiles, or even steps
DATA_SPACING = "data"  # the encoded test set's quantiles on each axis
SPACINGS = (*PRIOR_SPACINGS, DATA_SPACING)
# The standard normal quantile, as scipy.stats.norm.ppf (the tests compare the
# two): the standard library's, because importing scipy.special cost 0.2-0.35 s
# of the first page's script run, and an axis has at most 30 values.
_QUANTILE = statistics.NormalDist().inv_cdf


def check_grid(n: int, q: float, spacing: str = "quantile") -> None:
    """Raise ValueError unless ``2 <= n <= 30``, ``0 < q < 0.5`` and a known spacing."""
    if (
        isinstance(n, bool)
        or not isinstance(n, (int, np.integer))
        or not (2 <= n <= GRID_N_MAX)
    ):
        raise ValueError(
            f"grid size n must be a whole number from 2 to {GRID_N_MAX}, got {n!r}"
        )
    if (
        isinstance(q, bool)
        or not isinstance(q, (int, float))
        or not (math.isfinite(q) and 0.0 < q < 0.5)
    ):
        raise ValueError(f"quantile q must be strictly between 0 and 0.5, got {q!r}")
    if spacing not in SPACINGS:
        raise ValueError(
            f"spacing must be one of {', '.join(SPACINGS)}, got {spacing!r}"
        )


def grid_axis(
    n: int, q: float, spacing: str = "quantile", values: np.ndarray | None = None
) -> np.ndarray:
    """The ``n`` coordinates of one grid axis, increasing, float32. The data
    spacing takes the quantiles of ``values`` ``(n_test,)``, one latent
    dimension of the encoded test set."""
    check_grid(n, q, spacing)
    if spacing == DATA_SPACING:
        return _data_axis(n, q, values)
    if spacing == "quantile":
        probabilities = np.linspace(q, 1.0 - q, n)
        return np.array([_QUANTILE(p) for p in probabilities], dtype=np.float32)
    edge = _QUANTILE(1.0 - q)
    return np.linspace(-edge, edge, n, dtype=np.float32)


def _data_axis(n: int, q: float, values: np.ndarray | None) -> np.ndarray:
    """The quantiles ``q .. 1 - q`` of the finite ``values``, float32."""
    finite = None if values is None else np.asarray(values, np.float64).ravel()
    if finite is not None:
        finite = finite[np.isfinite(finite)]
    if finite is None or finite.size == 0:
        raise ValueError("the data spacing needs the encoded test set's values")
    return np.quantile(finite, np.linspace(q, 1.0 - q, n)).astype(np.float32)


def grid_axes(
    n: int,
    q: float,
    spacing: str = "quantile",
    means: np.ndarray | None = None,
    dims: tuple[int, int] = (0, 1),
) -> tuple[np.ndarray, np.ndarray]:
    """The x and y axes of the grid over latent dimensions ``dims``: the same
    axis twice for the prior's spacings; for the data spacing, each from its
    dimension of ``means`` ``(n_test, latent_dim)``."""
    if spacing != DATA_SPACING:
        axis = grid_axis(n, q, spacing)
        return axis, axis
    columns = (None, None) if means is None else (means[:, dims[0]], means[:, dims[1]])
    return grid_axis(n, q, spacing, columns[0]), grid_axis(n, q, spacing, columns[1])


def grid_points(
    n: int,
    q: float,
    spacing: str = "quantile",
    base: np.ndarray | None = None,
    dims: tuple[int, int] = (0, 1),
    means: np.ndarray | None = None,
) -> np.ndarray:
    """Latent points of the grid, ``(n * n, latent_dim)``, row by row.

    Row ``i`` (top to bottom) has the second chosen dimension decreasing, so
    the picture reads like a plot with its y axis pointing up; column ``j``
    has the first dimension increasing. Other dimensions come from ``base``
    (default zeros, latent size 2). The data spacing needs ``means``, the
    encoded test set ``(n_test, latent_dim)``.
    """
    x_axis, y_axis = grid_axes(n, q, spacing, means, dims)
    base = np.zeros(2, np.float32) if base is None else np.asarray(base, np.float32)
    points = np.repeat(base[None, :], n * n, axis=0)
    xs, ys = np.meshgrid(x_axis, y_axis[::-1])
    points[:, dims[0]] = xs.ravel()
    points[:, dims[1]] = ys.ravel()
    return points


def tile(
    images: np.ndarray, n: int, image_shape: tuple[int, ...] = MNIST_SHAPE
) -> np.ndarray:
    """``n * n`` images in [0, 1] of ``image_shape`` ``(height, width,
    channels)``, flat ``(n * n, height * width * channels)`` or ``(n * n,
    height, width, channels)``, -> one uint8 picture, image ``i * n + j`` at
    block-row ``i``, block-column ``j``: ``(n * height, n * width)`` for grey,
    ``(n * height, n * width, 3)`` for colour."""
    height, width, channels = image_shape
    pixels = np.clip(np.rint(np.asarray(images) * 255.0), 0, 255).astype(np.uint8)
    pixels = pixels.reshape(n, n, height, width, channels)
    picture = pixels.transpose(0, 2, 1, 3, 4).reshape(n * height, n * width, channels)
    return picture[:, :, 0] if channels == 1 else picture


def manifold(
    decode: Callable[[np.ndarray], np.ndarray],
    n: int = GRID_N_DEFAULT,
    q: float = GRID_Q_DEFAULT,
    spacing: str = "quantile",
    base: np.ndarray | None = None,
    dims: tuple[int, int] = (0, 1),
    image_shape: tuple[int, ...] = MNIST_SHAPE,
    means: np.ndarray | None = None,
) -> np.ndarray:
    """Decode the whole grid in one batched call and :func:`tile` it: uint8
    ``(n * height, n * width)`` for grey images, ``(n * height, n * width, 3)``
    for colour ones. ``decode`` maps ``(n * n, latent_dim)`` points to images of
    ``image_shape``, flat or shaped (``NumpyVAE.decode``); ``means`` as for
    :func:`grid_points`."""
    points = grid_points(n, q, spacing, base, dims, means)
    return tile(decode(points), n, image_shape)
