"""The plane of the latent space that the map shows.

With a 2-D latent space the map is the space itself. With more dimensions it
shows either two chosen dimensions or the plane of the first two principal
components of the encoded test set (PCA). Either way a :class:`Plane` maps
latent points to map coordinates and back; moving on the map changes z only
within the plane and keeps the rest of z as it was.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from vaeapp.core.latent import extent

AXES, PCA = "dimensions", "pca"
VIEWS = (AXES, PCA)


@dataclass(frozen=True)
class Plane:
    """Map coordinates ``x = (z - centre) @ u`` and ``y = (z - centre) @ v``.

    ``centre``, ``u`` and ``v`` are ``(latent_dim,)`` float64, ``u`` and ``v``
    orthonormal; ``titles`` names the two map axes; ``key`` tells planes apart
    (it names the cached map points in the browser).
    """

    centre: np.ndarray
    u: np.ndarray
    v: np.ndarray
    titles: tuple[str, str]
    key: str

    @property
    def basis(self) -> np.ndarray:
        """``(latent_dim, 2)``: the columns ``u`` and ``v``."""
        return np.stack([self.u, self.v], axis=1)

    def coords(self, z: np.ndarray) -> np.ndarray:
        """Latent points ``(n, latent_dim)`` (or one ``(latent_dim,)``) ->
        map coordinates ``(n, 2)`` (or ``(2,)``)."""
        z = np.asarray(z, np.float64)
        return (z - self.centre) @ self.basis

    def lift(self, xy: np.ndarray, z: np.ndarray) -> np.ndarray:
        """The point at map coordinates ``xy`` ``(2,)`` that differs from ``z``
        ``(latent_dim,)`` only within the plane: ``(latent_dim,)``."""
        z = np.asarray(z, np.float64)
        shift = np.asarray(xy, np.float64) - self.coords(z)
        return z + self.basis @ shift

    def ellipse(
        self, mean: np.ndarray, log_var: np.ndarray, k: float = 2.0, points: int = 64
    ) -> np.ndarray:
        """Outline ``(points, 2)`` of the ``k``-sigma ellipse of the diagonal
        Gaussian ``N(mean, exp(log_var))`` (both ``(latent_dim,)``) projected on
        the plane; the first and last points coincide."""
        variance = np.exp(np.asarray(log_var, np.float64))
        cov = self.basis.T @ (variance[:, None] * self.basis)
        values, vectors = np.linalg.eigh(cov)
        t = np.linspace(0.0, 2.0 * np.pi, points)
        circle = np.stack([np.cos(t), np.sin(t)])
        outline = vectors @ (k * np.sqrt(np.maximum(values, 0.0))[:, None] * circle)
        return self.coords(mean)[None, :] + outline.T


def axes_plane(latent_dim: int, dims: tuple[int, int]) -> Plane:
    """The plane of latent dimensions ``dims``: map coordinates are z[dims]."""
    i, j = dims
    if not (0 <= i < latent_dim and 0 <= j < latent_dim and i != j):
        raise ValueError(
            f"map dimensions must be two different numbers from 0 to "
            f"{latent_dim - 1}, got {dims}"
        )
    eye = np.eye(latent_dim)
    return Plane(
        np.zeros(latent_dim), eye[i], eye[j], (f"z{i + 1}", f"z{j + 1}"), f"z{i}-{j}"
    )


def pca_plane(means: np.ndarray) -> Plane:
    """The plane through the centre of ``means`` ``(n, latent_dim)`` spanned
    by their first two principal components, each signed so that its largest
    entry is positive; the titles give the share of variance each explains."""
    means = np.asarray(means, np.float64)
    if means.ndim != 2 or means.shape[1] < 2 or means.shape[0] < 2:
        raise ValueError(f"PCA needs (n >= 2, d >= 2) points, got {means.shape}")
    centre = means.mean(axis=0)
    _, singular, vt = np.linalg.svd(means - centre, full_matrices=False)
    share = singular**2 / max(float(np.sum(singular**2)), 1e-300)
    axes = []
    for row in vt[:2]:
        axes.append(row if row[np.argmax(np.abs(row))] > 0 else -row)
    titles = (f"PC1 ({share[0]:.0%} of variance)", f"PC2 ({share[1]:.0%})")
    return Plane(centre, axes[0], axes[1], titles, "pca")


def map_extent(plane: Plane, means: np.ndarray, limit: float) -> float:
    """The half-width of a map of ``plane``: the model's range of z,
    ``limit``, widened where the plane's coordinates of the encoded test set,
    ``means`` ``(n, latent_dim)``, lie further out (a PCA plane's can)."""
    return max(limit, extent(plane.coords(means)))
