"""The plane of the latent space that the map shows.

With a 2-D latent space the map is the space itself. With more dimensions it
shows either two chosen dimensions or the plane of the first two principal
components of the encoded test set (PCA). Either way a :class:`Plane` maps
latent points to map coordinates and back; moving on the map changes z only
within the plane and keeps the rest of z as it was. A folder may also store a
nonlinear plane (UMAP, :class:`StoredPlane`), which places the test images
only: a click there selects a test image's z or the mean of its neighbours'.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from vaeapp.core.latent import extent
from vaeapp.store.format import UMAP_KEY
from vaeapp.store.records import LoadedModel

AXES, PCA = "dimensions", "pca"
VIEWS = (AXES, PCA)
UMAP = UMAP_KEY  # the view of a folder's stored UMAP plane (StoredPlane)


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


# A click on a stored plane within this share of the plane's width of a point
# picks that point; further out it picks the mean of its nearest points.
PICK_SHARE = 0.005
CLICK_NEIGHBOURS = 5


@dataclass(frozen=True)
class StoredPlane:
    """A nonlinear 2-D plane of the test set computed when the folder was
    published or evaluated (UMAP), stored in its ``planes.npz``.

    ``points`` ``(n, 2)`` float32 are the test images' map coordinates, in the
    order of ``means`` ``(n, latent_dim)`` float32, their latent means; ``key``
    names the method (and the browser's cached points). Unlike :class:`Plane`
    it is no linear map: a test image's z has its stored coordinates, any
    other z those of its nearest test images (:meth:`coords`), and a map
    position becomes a z through its nearest points (:func:`plane_click_to_z`).
    """

    points: np.ndarray
    means: np.ndarray
    key: str

    @property
    def titles(self) -> tuple[str, str]:
        return (f"{self.key.upper()} 1", f"{self.key.upper()} 2")

    def coords(self, z: np.ndarray, k: int = CLICK_NEIGHBOURS) -> np.ndarray:
        """Latent points ``(m, latent_dim)`` (or one ``(latent_dim,)``) -> map
        coordinates ``(m, 2)`` (or ``(2,)``): the stored ones for the stored
        means themselves, else the mean coordinates of the ``k`` test images
        nearest in latent space (as UMAP places a new point before refining)."""
        z = np.asarray(z, np.float64)
        if z.shape == self.means.shape and np.array_equal(z, self.means):
            return np.asarray(self.points, np.float64)
        rows = np.atleast_2d(z)
        out = np.stack(
            [self.points[_nearest(self.means, row, k)].mean(0) for row in rows]
        )
        return out.astype(np.float64) if z.ndim == 2 else out[0].astype(np.float64)

    def extent(self) -> tuple[float, float, float, float]:
        """``(x_min, x_max, y_min, y_max)`` of the stored points."""
        low, high = self.points.min(axis=0), self.points.max(axis=0)
        return float(low[0]), float(high[0]), float(low[1]), float(high[1])


def _nearest(points: np.ndarray, target: np.ndarray, k: int) -> np.ndarray:
    """Indices of the ``k`` rows of ``points`` ``(n, d)`` nearest ``target``
    ``(d,)`` (Euclidean), nearest first."""
    distance = np.square(np.asarray(points, np.float64) - target).sum(axis=1)
    k = min(k, distance.size)
    part = np.argpartition(distance, k - 1)[:k] if k < distance.size else None
    rows = np.arange(distance.size) if part is None else part
    return rows[np.lexsort((rows, distance[rows]))]


def views_of(model: LoadedModel) -> tuple[str, ...]:
    """The views the map of ``model`` offers for more than two latent
    dimensions: VIEWS, then each plane its folder stores (UMAP)."""
    return (*VIEWS, *sorted(model.planes))


def stored_plane(model: LoadedModel, key: str) -> StoredPlane:
    """The plane ``key`` (``"umap"``) stored in ``model``'s folder; raises
    ValueError naming the stored ones when it holds no such plane."""
    if key not in model.planes:
        stored = ", ".join(sorted(model.planes)) or "none"
        raise ValueError(f"this model stores no {key!r} plane (stored: {stored})")
    return StoredPlane(model.planes[key], model.latent_mean, key)


def plane_click_to_z(
    plane: StoredPlane,
    xy: np.ndarray,
    radius: float | None = None,
    k: int = CLICK_NEIGHBOURS,
) -> tuple[np.ndarray, str]:
    """The z ``(latent_dim,)`` float64 that a click at map coordinates ``xy``
    ``(2,)`` on ``plane`` selects, and a sentence saying where it came from.

    Within ``radius`` (map units; default PICK_SHARE of the plane's width) of
    the nearest stored point, that test image's latent mean; further out, the
    mean of the latent means of the ``k`` test images nearest ``xy`` on the
    map (a plane like UMAP's has no inverse to read z from). Raises ValueError
    for a non-finite ``xy``.
    """
    xy = np.asarray(xy, np.float64).reshape(-1)
    if xy.shape != (2,) or not np.isfinite(xy).all():
        raise ValueError(f"a click must be two finite numbers, got {xy.tolist()}")
    if radius is None:
        x0, x1, y0, y1 = plane.extent()
        radius = PICK_SHARE * max(x1 - x0, y1 - y0, 1e-12)
    rows = _nearest(plane.points, xy, k)
    nearest = int(rows[0])
    if np.hypot(*(plane.points[nearest] - xy)) <= radius:
        z = np.asarray(plane.means[nearest], np.float64)
        return z, f"test image #{nearest}"
    z = np.asarray(plane.means[rows], np.float64).mean(axis=0)
    listed = ", ".join(f"#{int(i)}" for i in rows)
    return z, f"the mean of the {rows.size} nearest test images ({listed})"
