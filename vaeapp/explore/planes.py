"""What publishing and ``python -m vaeapp.evaluate`` add to a model folder for
the map: each test image's figures (−ELBO and its terms,
:mod:`vaeapp.inference.figures`) and, for more than two latent dimensions, a
nonlinear plane of the test set's latent means (UMAP: McInnes, Healy and
Melville 2018) on which the classes separate far better than on the PCA plane
(mnist-20d: 5-NN accuracy 96.6 % against 31.0 %; docs/map.md).

Only the training command and ``vaeapp.evaluate`` import this module (a
contract in pyproject.toml): umap-learn brings numba and, through its
parametric variant, TensorFlow, which the page never loads.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np

from vaeapp.inference.figures import streamed_figures
from vaeapp.store.format import UMAP_KEY
from vaeapp.store.records import LoadedModel

# UMAP's defaults (15 neighbours, min_dist 0.1), seeded: the same folder gets
# the same plane on every run (one thread; umap-learn runs parallel only
# unseeded).
UMAP_NEIGHBOURS = 15
UMAP_MIN_DIST = 0.1
UMAP_SEED = 0


@dataclass(frozen=True)
class MapData:
    """``figures``: ``{"elbo", "recon", "kl"}`` -> float32 ``(n,)`` nats (empty
    without test images); ``planes``: ``{"umap"}`` -> float32 ``(n, 2)`` (empty
    for a 2-D latent space, or fewer test images than UMAP needs);
    ``plane_seconds``: what computing the plane took (0 without one)."""

    figures: dict[str, np.ndarray]
    planes: dict[str, np.ndarray]
    plane_seconds: float


def umap_plane(means: np.ndarray, seed: int = UMAP_SEED) -> np.ndarray:
    """The UMAP embedding ``(n, 2)`` float32 of latent means ``(n, d)`` (at
    least UMAP_NEIGHBOURS + 2 rows), seeded. Raises ValueError for fewer rows
    or non-finite values."""
    means = np.asarray(means, np.float32)
    if means.ndim != 2 or means.shape[0] < UMAP_NEIGHBOURS + 2:
        raise ValueError(
            f"UMAP needs at least {UMAP_NEIGHBOURS + 2} points, got {means.shape}"
        )
    if not np.isfinite(means).all():
        raise ValueError("UMAP needs finite latent means")
    import umap  # heavy (numba, TensorFlow): imported when a plane is made

    reducer = umap.UMAP(
        n_neighbors=UMAP_NEIGHBOURS,
        min_dist=UMAP_MIN_DIST,
        random_state=seed,
        n_jobs=1,
    )
    return np.asarray(reducer.fit_transform(means), np.float32)


def map_data(model: LoadedModel, seed: int = UMAP_SEED) -> MapData:
    """The per-image figures and the UMAP plane of ``model``'s test set, from
    the folder's own q (its stored means and log-variances, refined when the
    folder says so); figures only when this server has the pixels of every
    test image (stored, or in the data set's cache)."""
    figures = {}
    if model.labels.shape[0] == model.image_count:  # every image, streamed
        figures = streamed_figures(
            model.vae, model.point_images, model.latent_mean, model.latent_log_var
        )
    planes, seconds = {}, 0.0
    n, dims = model.latent_mean.shape
    if dims > 2 and n >= UMAP_NEIGHBOURS + 2:
        started = time.perf_counter()
        planes[UMAP_KEY] = umap_plane(model.latent_mean, seed)
        seconds = time.perf_counter() - started
    return MapData(figures, planes, seconds)
