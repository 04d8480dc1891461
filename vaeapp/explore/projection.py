"""The plane of the latent space that the map shows.

With a 2-D latent space the map is the space itself. With more dimensions it
shows either two chosen dimensions or the plane of the first two principal
components of the encoded test set (PCA). Either way a :class:`Plane` maps
latent points to map coordinates and back; moving on the map changes z only
within the plane and keeps the rest of z as it was. A folder may also store a
nonlinear plane (UMAP, :class:`StoredPlane`), which places the test images
only: a position there becomes a test image's z or the distance-weighted mean
of its neighbours' (:func:`plane_click_to_z`), and a z a position by the
weighted position of its nearest latents (:meth:`StoredPlane.coords`); the
browser applies the same rules (``vaeapp/web/plane_rules.js``).
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


# The rules between a stored plane and z, one set for the server and the
# browser (vaeapp/web/plane_rules.js does the same sums):
# - map -> z (a click, the live decode under the pointer): within PICK_SHARE of
#   the plane's width of a stored point, that test image's latent mean; further
#   out the inverse-distance-weighted mean (Shepard 1968, weights 1 / d^2) of
#   the latent means of the NEIGHBOURS points nearest on the map;
# - z -> map (the z marker, paths, samples): a stored mean's own point, else
#   the inverse-distance-weighted mean of the map points of the
#   PLACE_NEIGHBOURS means nearest in latent space (as UMAP's transform starts
#   a new point). 3 rather than 5: each of 500 mnist-20d test images placed
#   from the others lands 0.57 % of the plane's width from its own point
#   (median) with 3, 0.60 % with 5, and 2.9 % against 5.5 % at the 90th
#   percentile, where 5 neighbours straddle two clusters (docs/map.md).
# Both read the plane's anchors: every stored point, or ANCHORS_MAX of them
# evenly spaced in the held-out order for larger sets, so that the browser
# holds at most ANCHORS_MAX latent means (20,000 x 20 dims: 1.6 MB).
PICK_SHARE = 0.005
NEIGHBOURS = 5
PLACE_NEIGHBOURS = 3
CLICK_NEIGHBOURS = NEIGHBOURS  # the name the tests and older callers use
ANCHORS_MAX = 20_000
STORED_PAD = 0.04  # a stored plane's map reaches this share past its points
_SAME_Z = 1e-12  # squared latent distance under which z is a stored mean


def anchor_rows(count: int) -> np.ndarray | None:
    """The rows of a stored plane's ``count`` points that the rules read:
    None for all of them (at most ANCHORS_MAX), else ANCHORS_MAX evenly
    spaced row numbers ``(ANCHORS_MAX,)`` int64, increasing."""
    if count <= ANCHORS_MAX:
        return None
    return np.unique(np.linspace(0, count - 1, ANCHORS_MAX).round().astype(np.int64))


def weighted_mean(values: np.ndarray, squared: np.ndarray) -> np.ndarray:
    """Inverse-distance-weighted mean ``(c,)`` float64 of ``values`` ``(k, c)``
    at squared distances ``squared`` ``(k,)`` (all > 0): weights ``1 /
    squared`` (Shepard's power 2), summed in row order as plane_rules.js."""
    weights = 1.0 / np.asarray(squared, np.float64)
    total = np.zeros(values.shape[1], np.float64)
    for w, row in zip(weights, np.asarray(values, np.float64), strict=True):
        total += w * row
    return total / weights.sum()


@dataclass(frozen=True)
class StoredPlane:
    """A nonlinear 2-D plane of the test set computed when the folder was
    published or evaluated (UMAP), stored in its ``planes.npz``.

    ``points`` ``(n, 2)`` float32 are the test images' map coordinates, in the
    order of ``means`` ``(n, latent_dim)`` float32, their latent means; ``key``
    names the method (and the browser's cached points). Unlike :class:`Plane`
    it is no linear map: a test image's z has its stored coordinates, any
    other z a weighted position of its nearest test images (:meth:`coords`),
    and a map position becomes a z through its nearest points
    (:func:`plane_click_to_z`); both rules read the plane's anchors
    (:meth:`anchors`).
    """

    points: np.ndarray
    means: np.ndarray
    key: str

    @property
    def titles(self) -> tuple[str, str]:
        return (f"{self.key.upper()} 1", f"{self.key.upper()} 2")

    def anchors(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """``(rows (m,), points (m, 2), means (m, latent_dim))``: the stored
        points the rules read (:func:`anchor_rows`) and their row numbers."""
        rows = anchor_rows(self.points.shape[0])
        if rows is None:
            return np.arange(self.points.shape[0]), self.points, self.means
        return rows, self.points[rows], self.means[rows]

    def pick_radius(self) -> float:
        """Map units within which a position is a stored point's own:
        PICK_SHARE of the larger side of the stored points' extent."""
        x0, x1, y0, y1 = self.extent()
        return PICK_SHARE * max(x1 - x0, y1 - y0, 1e-12)

    def coords(self, z: np.ndarray, k: int = PLACE_NEIGHBOURS) -> np.ndarray:
        """Latent points ``(m, latent_dim)`` (or one ``(latent_dim,)``) -> map
        coordinates ``(m, 2)`` (or ``(2,)``) float64: the stored points for
        the stored means themselves, else the z -> map rule above."""
        z = np.asarray(z, np.float64)
        if z.shape == self.means.shape and np.array_equal(z, self.means):
            return np.asarray(self.points, np.float64)
        _, points, means = self.anchors()
        out = np.stack([_place(points, means, row, k) for row in np.atleast_2d(z)])
        return out if z.ndim == 2 else out[0]

    def extent(self) -> tuple[float, float, float, float]:
        """``(x_min, x_max, y_min, y_max)`` of the stored points."""
        low, high = self.points.min(axis=0), self.points.max(axis=0)
        return float(low[0]), float(high[0]), float(low[1]), float(high[1])

    def axis_range(self) -> tuple[float, float]:
        """The range both map axes show: around the stored points, STORED_PAD
        of their span past them (their coordinates have nothing to do with
        z's range)."""
        x0, x1, y0, y1 = self.extent()
        low, high = min(x0, y0), max(x1, y1)
        pad = STORED_PAD * max(high - low, 1e-6)
        return low - pad, high + pad


def _place(points: np.ndarray, means: np.ndarray, z: np.ndarray, k: int) -> np.ndarray:
    """The map position ``(2,)`` of one z ``(latent_dim,)`` among anchors
    ``points`` ``(m, 2)`` and ``means`` ``(m, latent_dim)``."""
    rows, squared = _nearest(means, z, k)
    if squared[0] <= _SAME_Z:
        return np.asarray(points[rows[0]], np.float64)
    return weighted_mean(points[rows], squared)


def _nearest(points: np.ndarray, target: np.ndarray, k: int) -> tuple:
    """Indices ``(k,)`` of the ``k`` rows of ``points`` ``(n, d)`` nearest
    ``target`` ``(d,)`` (Euclidean; ties to the lower row), nearest first, and
    their squared distances ``(k,)``."""
    distance = np.square(np.asarray(points, np.float64) - target).sum(axis=1)
    k = min(k, distance.size)
    part = np.argpartition(distance, k - 1)[:k] if k < distance.size else None
    rows = np.arange(distance.size) if part is None else part
    rows = rows[np.lexsort((rows, distance[rows]))]
    return rows, distance[rows]


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
    k: int = NEIGHBOURS,
) -> tuple[np.ndarray, str]:
    """The z ``(latent_dim,)`` float64 that a click at map coordinates ``xy``
    ``(2,)`` on ``plane`` selects, and a sentence saying where it came from:
    the map -> z rule above (the browser's live decode under the pointer uses
    the same), among the plane's anchors.

    Within ``radius`` (map units; default :meth:`StoredPlane.pick_radius`) of
    the nearest anchor, that test image's latent mean; further out, the
    inverse-distance-weighted mean of the latent means of the ``k`` anchors
    nearest ``xy`` on the map (a plane like UMAP's has no inverse to read z
    from). Raises ValueError for a non-finite ``xy``.
    """
    xy = np.asarray(xy, np.float64).reshape(-1)
    if xy.shape != (2,) or not np.isfinite(xy).all():
        raise ValueError(f"a click must be two finite numbers, got {xy.tolist()}")
    if radius is None:
        radius = plane.pick_radius()
    ids, points, means = plane.anchors()
    rows, squared = _nearest(points, xy, k)
    if np.sqrt(squared[0]) <= radius:
        return np.asarray(means[rows[0]], np.float64), f"test image #{ids[rows[0]]}"
    z = weighted_mean(means[rows], squared)
    listed = ", ".join(f"#{int(ids[i])}" for i in rows)
    return z, (
        f"the distance-weighted mean of the {rows.size} nearest test images ({listed})"
    )
