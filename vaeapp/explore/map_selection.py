"""What a lasso, a box or a search on the map picks, in NumPy.

The browser sends the lasso's polygon in map coordinates, never a list of
ids: the server finds the points inside it here, on the same map coordinates
the browser drew (``Plane.coords`` of the latent means).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from vaeapp.store.records import LoadedModel

_ROWS = 65_536  # points tested at once: bounds the temporary arrays


def points_in_polygon(points: np.ndarray, polygon: np.ndarray) -> np.ndarray:
    """Indices (ascending, int64) of ``points`` ``(n, 2)`` inside ``polygon``
    ``(k, 2)`` (closed implicitly), by the even-odd rule: a horizontal ray
    from the point crosses the boundary an odd number of times (the test of
    W. R. Franklin's PNPOLY). Points exactly on an edge may fall either way."""
    points = np.asarray(points, np.float64)
    poly = np.asarray(polygon, np.float64)
    x0, y0 = poly[:, 0], poly[:, 1]
    x1, y1 = np.roll(x0, -1), np.roll(y0, -1)
    lo, hi = poly.min(axis=0), poly.max(axis=0)
    # Only the points in the polygon's bounding box are tested edge by edge.
    boxed = np.flatnonzero(np.all((points >= lo) & (points <= hi), axis=1))
    inside = np.zeros(boxed.size, bool)
    with np.errstate(divide="ignore", invalid="ignore"):
        for start in range(0, boxed.size, _ROWS):
            px = points[boxed[start : start + _ROWS], 0][:, None]
            py = points[boxed[start : start + _ROWS], 1][:, None]
            spans = (y0 > py) != (y1 > py)
            cross = (x1 - x0) * (py - y0) / (y1 - y0) + x0
            odd = np.count_nonzero(spans & (px < cross), axis=1) % 2 == 1
            inside[start : start + _ROWS] = odd
    return boxed[inside].astype(np.int64)


@dataclass(frozen=True)
class Selection:
    """Test images picked on the map: ``ids`` ``(m,)`` int64 ascending."""

    ids: np.ndarray

    def class_counts(self, model: LoadedModel) -> list[tuple[str, int]]:
        """``(class name, count)`` of each class with at least one image
        picked; one row "all" for a set without labels."""
        names = model.class_names
        if not names:
            return [("all", int(self.ids.size))]
        counts = np.bincount(model.labels[self.ids], minlength=len(names))
        return [(names[c], int(n)) for c, n in enumerate(counts) if n]

    def mean_latent(self, model: LoadedModel) -> np.ndarray:
        """The mean of the picked images' latent means, ``(latent_dim,)``."""
        return model.latent_mean[self.ids].astype(np.float64).mean(axis=0)

    def ids_csv(self, model: LoadedModel) -> bytes:
        """One line per picked image: ``test_index,class`` (class empty for a
        set without labels), with a header line."""
        names = model.class_names
        lines = ["test_index,class"]
        for i in self.ids.tolist():
            name = names[model.labels[i]] if names else ""
            lines.append(f"{i},{_csv_field(name)}")
        return ("\n".join(lines) + "\n").encode("utf-8")


def _csv_field(text: str) -> str:
    """``text`` quoted for CSV when it needs it; a leading = + - @ is
    prefixed with ' so that a spreadsheet does not run it as a formula."""
    if text[:1] in ("=", "+", "-", "@"):
        text = "'" + text
    if any(ch in text for ch in ',"\n\r'):
        text = '"' + text.replace('"', '""') + '"'
    return text


def select(
    points: np.ndarray, labels: np.ndarray, polygon: np.ndarray, classes: list[int]
) -> Selection:
    """The points ``(n, 2)`` inside ``polygon`` ``(k, 2)`` whose label
    ``(n,)`` is one of ``classes`` (the legend's shown classes)."""
    ids = points_in_polygon(points, polygon)
    ids = ids[np.isin(labels[ids], np.asarray(classes, np.int64))]
    return Selection(ids)


def search(model: LoadedModel, text: str) -> int:
    """The test image ``text`` names: its index (``"123"`` or ``"#123"``), or
    the first image of the class of that name (case-insensitive). Raises
    ValueError saying what was searched and what is allowed."""
    count = model.latent_mean.shape[0]
    digits = text.removeprefix("#")
    if digits.isdigit():
        index = int(digits)
        if index >= count:
            raise ValueError(f"no test image {index}: they are 0 to {count - 1}")
        return index
    wanted = text.casefold()
    for c, name in enumerate(model.class_names or ()):
        if name.casefold() == wanted:
            hits = np.flatnonzero(model.labels == c)
            if hits.size:
                return int(hits[0])
    raise ValueError(
        f"nothing found for {text[:60]!r}: type a test index (0 to {count - 1}) "
        "or a class name"
    )
