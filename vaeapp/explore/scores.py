"""Figures of a trained model beyond its ELBO, in NumPy: how well the classes
separate on its map (k-nearest-neighbour accuracy) and an importance-weighted
estimate of the test log-likelihood (the IWAE bound).

Both are what papers report besides the ELBO; :mod:`vaeapp.evaluate` is the
command that computes them for a model folder.
"""

from __future__ import annotations

from typing import Any

import numpy as np

KNN_K = 5
SAMPLES_MAX = 100_000  # importance samples per image


def knn_accuracy(points: np.ndarray, labels: np.ndarray, k: int = KNN_K) -> float:
    """Leave-one-out accuracy of a ``k``-nearest-neighbour vote on ``points``.

    ``points`` ``(n, d)`` (a map's coordinates), ``labels`` ``(n,)`` whole
    numbers. Each point is classified by the majority label of its ``k``
    nearest other points (Euclidean; ties go to the label of the nearest of the
    tied ones); returns the share classified as their own label, in [0, 1].
    Raises ValueError for mismatched shapes, fewer than ``k + 1`` points or
    non-finite coordinates.
    """
    from scipy.spatial import cKDTree  # imported when used: the page needs none

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


def majority_baseline(labels: np.ndarray) -> float:
    """The share of the most frequent label in ``labels`` ``(n,)``, in [0, 1]:
    what always guessing that class scores, the floor a k-NN accuracy on the
    same labels is to be read against (MNIST's test set: 11.35 %, its 1s).
    Raises ValueError for an empty array or labels that are not whole
    numbers 0 or more."""
    labels = np.asarray(labels)
    if labels.ndim != 1 or labels.size == 0:
        raise ValueError(f"labels must be (n,) with n >= 1, got {labels.shape}")
    if labels.dtype.kind not in "iu" or labels.min() < 0:
        raise ValueError("labels must be whole numbers 0 or more")
    return float(np.bincount(labels).max() / labels.size)


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


# Rows decoded in one call of the IWAE estimate (images x samples): 16,384
# rows of 784 logits are 50 MB of float32, well inside a laptop's memory.
IWAE_ROWS = 16_384
LOG_2PI = float(np.log(2.0 * np.pi))


def iwae_nll(
    model: Any,
    images: np.ndarray,
    samples: int,
    seed: int = 0,
    posterior: tuple[np.ndarray, np.ndarray] | None = None,
) -> np.ndarray:
    """Importance-weighted estimates of ``-log p(x)`` in nats, one per image.

    ``images`` ``(n, n_pixels)`` in [0, 1] (uint8 is divided by 255);
    ``model`` a :class:`vaeapp.inference.numpy_vae.NumpyVAE`. With ``samples`` = K draws
    z_k ~ q(z|x), the estimate is ``-log (1/K) sum_k p(x|z_k) p(z_k) /
    q(z_k|x)`` (Burda et al. 2016, eq. 8): at K = 1 an unbiased estimate of the
    negative ELBO, and in expectation it falls towards ``-log p(x)`` as K
    grows. ``p(x|z)`` is the Bernoulli likelihood of the grey values, as in
    training. q is ``posterior`` = ``(mean, log_var)``, each ``(n,
    latent_dim)``, when given (e.g. a folder's refined q), else the encoder's.
    Returns ``(n,)`` float64.
    """
    from scipy.special import logsumexp

    x = _pixels(images, model.config.n_pixels)
    if not isinstance(samples, int) or samples < 1:
        raise ValueError(f"samples must be a whole number of at least 1, got {samples}")
    rng = np.random.default_rng(seed)
    if posterior is None:
        posterior = model.encode(x)
    mean, log_var = (np.asarray(a, np.float64) for a in posterior)
    expected = (x.shape[0], model.config.latent_dim)
    if mean.shape != expected or log_var.shape != expected:
        raise ValueError(
            f"the posterior must be two ({x.shape[0]}, "
            f"{model.config.latent_dim}) arrays, got {mean.shape}, {log_var.shape}"
        )
    per_call = max(1, min(samples, IWAE_ROWS // max(1, min(x.shape[0], 64))))
    out = np.empty(x.shape[0])
    for start in range(0, x.shape[0], 64):
        rows = slice(start, start + 64)
        weights = [
            _log_weights(model, x[rows], mean[rows], log_var[rows], count, rng)
            for count in _chunks(samples, per_call)
        ]
        log_w = np.concatenate(weights, axis=1)  # (b, samples)
        out[rows] = np.log(samples) - logsumexp(log_w, axis=1)
    return out


def _pixels(images: np.ndarray, n_pixels: int) -> np.ndarray:
    """``images`` as float32 ``(n, n_pixels)`` in [0, 1]; ValueError otherwise."""
    x = np.asarray(images)
    scale = 255.0 if x.dtype == np.uint8 else 1.0
    x = x.reshape(x.shape[0], -1).astype(np.float32) / np.float32(scale)
    if x.shape[1] != n_pixels or not x.shape[0]:
        raise ValueError(f"images must be (n, {n_pixels}) with n >= 1, got {x.shape}")
    if not np.isfinite(x).all() or x.min() < 0 or x.max() > 1:
        raise ValueError("images must be finite values in [0, 1]")
    return x


def _chunks(total: int, size: int) -> list[int]:
    return [min(size, total - start) for start in range(0, total, size)]


def _log_weights(
    model: Any,
    x: np.ndarray,
    mean: np.ndarray,
    log_var: np.ndarray,
    count: int,
    rng: np.random.Generator,
) -> np.ndarray:
    """``log p(x|z) + log p(z) - log q(z|x)`` for ``count`` draws per image:
    ``(b, count)`` float64 for ``x`` ``(b, n_pixels)``."""
    b, d = mean.shape
    eps = rng.standard_normal((b, count, d))
    z = mean[:, None] + np.exp(0.5 * log_var)[:, None] * eps  # (b, count, d)
    logits = model.decode_logits(z.reshape(-1, d).astype(np.float32))
    logits = logits.reshape(b, count, -1).astype(np.float64)
    # Bernoulli log-likelihood from logits: x l - log(1 + e^l), summed.
    log_px = (x[:, None, :] * logits - np.logaddexp(0.0, logits)).sum(axis=-1)
    log_pz = -0.5 * (np.square(z) + LOG_2PI).sum(axis=-1)
    log_qz = -0.5 * (np.square(eps) + LOG_2PI + log_var[:, None]).sum(axis=-1)
    return log_px + log_pz - log_qz
