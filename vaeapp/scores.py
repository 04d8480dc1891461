"""Figures of a trained model beyond its ELBO, in NumPy: how well the classes
separate on its map (k-nearest-neighbour accuracy) and an importance-weighted
estimate of the test log-likelihood (the IWAE bound).

Both are what papers report besides the ELBO; :mod:`vaeapp.evaluate` is the
command that computes them for a model folder.
"""

from __future__ import annotations

import numpy as np

KNN_K = 5


def knn_accuracy(points: np.ndarray, labels: np.ndarray, k: int = KNN_K) -> float:
    """Leave-one-out accuracy of a ``k``-nearest-neighbour vote on ``points``.

    ``points`` ``(n, d)`` (a map's coordinates), ``labels`` ``(n,)`` whole
    numbers. Each point is classified by the majority label of its ``k``
    nearest other points (Euclidean; ties go to the label of the nearest of the
    tied ones); returns the share classified as their own label, in [0, 1].
    Raises ValueError for mismatched shapes, fewer than ``k + 1`` points or
    non-finite coordinates.
    """
    from scipy.spatial import cKDTree

    points = np.asarray(points, np.float64)
    labels = np.asarray(labels)
    if points.ndim != 2 or labels.shape != (points.shape[0],):
        raise ValueError(
            f"points must be (n, d) and labels (n,), got {points.shape} and "
            f"{labels.shape}"
        )
    if not 1 <= k < points.shape[0]:
        raise ValueError(f"k must be 1 to {points.shape[0] - 1}, got {k}")
    if not np.isfinite(points).all():
        raise ValueError("points must be finite")
    _, rows = cKDTree(points).query(points, k=k + 1)
    neighbours = _without_self(rows, np.arange(points.shape[0]))[:, :k]
    votes = labels[neighbours]  # (n, k), nearest first
    predicted = np.array([_vote(row) for row in votes])
    return float(np.mean(predicted == labels))


def _without_self(rows: np.ndarray, own: np.ndarray) -> np.ndarray:
    """``rows`` ``(n, k + 1)`` with each point's own index removed (or, for a
    duplicate point listed first, its last column dropped)."""
    keep = rows != own[:, None]
    keep[keep.all(axis=1), -1] = False
    return rows[keep].reshape(rows.shape[0], rows.shape[1] - 1)


def _vote(row: np.ndarray) -> int:
    """The most frequent label of ``row`` (nearest first); a tie goes to the
    tied label that comes first."""
    values, first, counts = np.unique(row, return_index=True, return_counts=True)
    best = counts == counts.max()
    return int(values[best][np.argmin(first[best])])
