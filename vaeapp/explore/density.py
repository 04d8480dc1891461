"""How crowded the map is around each point: the figure "colour by point
density" shows, so that the dense cores of a million points stand out where
their dots overlap into one colour.

A histogram of the points on a GRID x GRID lattice over their extent,
smoothed with a Gaussian of SMOOTH_CELLS cells (a binned kernel density
estimate, Wand 1994), read back at each point's cell.
"""

from __future__ import annotations

import numpy as np

GRID = 256
SMOOTH_CELLS = 1.5


def point_density(xy: np.ndarray, grid: int = GRID) -> np.ndarray:
    """Points per unit area around each of ``xy`` ``(n, 2)`` (map
    coordinates): float32 ``(n,)``, the smoothed histogram of all points at
    the point's cell divided by a cell's area. Raises ValueError for
    non-finite coordinates or fewer than one point."""
    from scipy.ndimage import gaussian_filter

    xy = np.asarray(xy, np.float64)
    if xy.ndim != 2 or xy.shape[1] != 2 or xy.shape[0] < 1:
        raise ValueError(f"points must be (n >= 1, 2), got {xy.shape}")
    if not np.isfinite(xy).all():
        raise ValueError("points must be finite")
    low, high = xy.min(axis=0), xy.max(axis=0)
    span = np.maximum(high - low, 1e-12)
    cells = np.minimum((xy - low) / span * grid, grid - 1).astype(np.int64)
    counts = np.zeros((grid, grid))
    np.add.at(counts, (cells[:, 0], cells[:, 1]), 1.0)
    smooth = gaussian_filter(counts, SMOOTH_CELLS, mode="constant")
    area = float(np.prod(span / grid))
    return (smooth[cells[:, 0], cells[:, 1]] / area).astype(np.float32)
