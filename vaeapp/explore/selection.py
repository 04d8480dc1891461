"""A selection of test images on the map: which points a lasso or box holds,
what the selection holds, its ids as CSV, and search.

Everything that comes from the browser (a polygon, a list of ids, a search
string) is checked here first (:func:`check_polygon`, :func:`check_ids`,
:func:`check_query`): a ValueError names what was wrong and what is allowed.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from typing import Any

import numpy as np

from vaeapp.core.safe_json import finite_number, whole_number
from vaeapp.store.records import LoadedModel

MAX_POLYGON_VERTICES = 10_000  # a lasso sampled at 60/s for almost 3 minutes
MAX_COORD = 1e6  # what a map coordinate may be, in absolute value
MAX_QUERY_CHARS = 200
# Formula prefixes spreadsheets evaluate in a CSV cell (OWASP "CSV injection").
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def check_polygon(value: Any) -> np.ndarray:
    """``value`` as a polygon ``(m, 2)`` float64: a list (or array) of 3 to
    MAX_POLYGON_VERTICES ``[x, y]`` pairs of finite numbers within
    +-MAX_COORD. The outline closes itself (the last vertex joins the first).
    Raises ValueError naming what is allowed; the count is checked before any
    vertex is read, so a huge list costs nothing."""
    allowed = (
        f"a selection outline must be 3 to {MAX_POLYGON_VERTICES:,} [x, y] pairs "
        f"of finite numbers within +-{MAX_COORD:g}"
    )
    if isinstance(value, np.ndarray):
        if value.ndim != 2 or value.shape[1] != 2 or value.dtype.kind not in "iuf":
            raise ValueError(f"{allowed}; got an array of shape {value.shape}")
        rows = value
    elif isinstance(value, (list, tuple)):
        rows = value
    else:
        raise ValueError(f"{allowed}; got {type(value).__name__}")
    if not 3 <= len(rows) <= MAX_POLYGON_VERTICES:
        raise ValueError(f"{allowed}; got {len(rows):,} vertices")
    if not isinstance(value, np.ndarray) and not all(
        isinstance(row, (list, tuple))
        and len(row) == 2
        and finite_number(row[0])
        and finite_number(row[1])
        for row in rows
    ):
        raise ValueError(f"{allowed}; a vertex is not two numbers")
    with np.errstate(over="ignore"):
        polygon = np.asarray(rows, np.float64)
    if not np.isfinite(polygon).all() or np.abs(polygon).max() > MAX_COORD:
        raise ValueError(f"{allowed}; a vertex is not finite or too large")
    return polygon


def points_in_polygon(xy: np.ndarray, polygon: np.ndarray) -> np.ndarray:
    """Which of the points ``xy`` ``(n, 2)`` lie inside ``polygon`` ``(m, 2)``
    (closed: the last vertex joins the first): bool ``(n,)``.

    The even-odd rule, as a canvas or SVG ``evenodd`` fill draws the lasso: a
    point is inside when a ray from it towards +x crosses the outline an odd
    number of times. An edge counts for points whose y lies in ``[lower end,
    upper end)`` and strictly to the left of it (the sign of a cross
    product). So a point on the outline counts once at most: of two polygons
    that share an edge, at most one holds a point on it, and a point on a
    horizontal edge, or on the right-hand side of a shape, is outside. The
    rule uses only the order of y values and the sign of the cross product,
    which zooming and panning (scaling by a positive factor, then shifting)
    keep: the same points are selected on any zoomed view, up to rounding
    for points within a rounding error of the outline.

    Each edge looks only at the points in its band of y (found by binary
    search on the points sorted by y), so a lasso of many short segments
    costs about ``n log n`` plus the points times the crossings per row.
    """
    xy = np.asarray(xy, np.float64)
    polygon = np.asarray(polygon, np.float64)
    if xy.ndim != 2 or xy.shape[1] != 2 or polygon.ndim != 2 or polygon.shape[1] != 2:
        raise ValueError(f"need (n, 2) points and (m, 2) vertices, got {xy.shape}")
    inside = np.zeros(xy.shape[0], bool)
    low, high = polygon.min(axis=0), polygon.max(axis=0)
    box = np.flatnonzero(((xy >= low) & (xy <= high)).all(axis=1))
    if box.size == 0 or polygon.shape[0] < 3:
        return inside
    order = box[np.argsort(xy[box, 1], kind="stable")]
    px, py = xy[order, 0], xy[order, 1]
    parity = np.zeros(order.size, bool)
    starts, ends = polygon, np.roll(polygon, -1, axis=0)
    for (ax, ay), (bx, by) in zip(starts, ends, strict=True):
        if ay == by:
            continue  # horizontal: no ray towards +x crosses it
        if ay > by:  # make a the lower end
            ax, ay, bx, by = bx, by, ax, ay
        band = slice(*np.searchsorted(py, (ay, by), side="left"))
        cross = (bx - ax) * (py[band] - ay) - (by - ay) * (px[band] - ax)
        parity[band] ^= cross > 0  # the point is left of the upward edge
    inside[order] = parity
    return inside


def check_ids(value: Any, count: int) -> np.ndarray:
    """``value`` as test-image ids: a list (or integer array) of at most
    ``count`` whole numbers 0 to ``count - 1``; returns them sorted, each once,
    int64. Raises ValueError naming what is allowed."""
    allowed = f"ids must be at most {count:,} whole numbers 0 to {count - 1:,}"
    if isinstance(value, np.ndarray):
        if value.ndim != 1 or value.dtype.kind not in "iu":
            raise ValueError(f"{allowed}; got an array of {value.dtype}")
        ids = value.astype(np.int64, copy=False)
    elif isinstance(value, (list, tuple)):
        if len(value) > count:
            raise ValueError(f"{allowed}; got {len(value):,}")
        if not all(whole_number(v, 0, count - 1) for v in value):
            raise ValueError(f"{allowed}; one is not")
        ids = np.asarray(value, np.int64).reshape(-1)
    else:
        raise ValueError(f"{allowed}; got {type(value).__name__}")
    if ids.size > count or (ids.size and (ids.min() < 0 or ids.max() >= count)):
        raise ValueError(f"{allowed}; got values out of range")
    return np.unique(ids)


@dataclass(frozen=True)
class SelectionSummary:
    """What a selection of test images holds.

    ``count`` images; ``class_counts`` ``(class name, count)`` for every
    class, in label order (None without class names); ``factor_means``
    ``(factor name, mean)`` of the images' true factors (None without them);
    ``figure_means`` the mean of each stored per-image figure (nats);
    ``mean_latent`` ``(latent_dim,)`` float64, the mean of their latent means
    (None for an empty selection): the z a button moves to.
    """

    count: int
    class_counts: tuple[tuple[str, int], ...] | None
    factor_means: tuple[tuple[str, float], ...] | None
    figure_means: dict[str, float]
    mean_latent: np.ndarray | None


def selection_summary(model: LoadedModel, ids: Any) -> SelectionSummary:
    """The :class:`SelectionSummary` of test images ``ids`` (checked with
    :func:`check_ids`) of ``model``."""
    ids = check_ids(ids, model.labels.shape[0])
    names, factor_names = model.class_names, model.factor_names
    counts = np.bincount(model.labels[ids], minlength=len(names or ()))
    factors = None
    if ids.size and model.factors is not None and factor_names is not None:
        means = model.factors[ids].mean(axis=0, dtype=np.float64)
        factors = tuple(zip(factor_names, map(float, means), strict=True))
    return SelectionSummary(
        count=int(ids.size),
        class_counts=None
        if names is None
        else tuple(zip(names, map(int, counts), strict=True)),
        factor_means=factors,
        figure_means={
            key: float(values[ids].mean(dtype=np.float64))
            for key, values in model.figures.items()
            if ids.size
        },
        mean_latent=model.latent_mean[ids].mean(axis=0, dtype=np.float64)
        if ids.size
        else None,
    )


def _cell(text: str) -> str:
    """``text`` safe as a CSV cell a spreadsheet opens: a leading formula
    character is quoted with ``'`` so it is shown, never evaluated."""
    return f"'{text}" if text.startswith(_FORMULA_STARTS) else text


def ids_csv(model: LoadedModel, ids: Any) -> str:
    """A CSV of test images ``ids`` (checked): a header, then one row each
    with its ``test_index``, its ``class`` name (when the data has classes)
    and its ``file_name`` (own image folders that recorded them)."""
    ids = check_ids(ids, model.labels.shape[0])
    names, files = model.class_names, model.file_names
    header = ["test_index"]
    header += ["class"] if names is not None else []
    header += ["file_name"] if files is not None else []
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(header)
    for i in ids.tolist():
        row = [str(i)]
        row += [_cell(names[model.labels[i]])] if names is not None else []
        row += [_cell(str(files[i]))] if files is not None else []
        writer.writerow(row)
    return out.getvalue()


def check_query(value: Any) -> str:
    """``value`` as a search string: 1 to MAX_QUERY_CHARS printable
    characters once stripped; raises ValueError naming what is allowed."""
    if not isinstance(value, str) or not value.isprintable():
        raise ValueError(
            f"a search must be 1 to {MAX_QUERY_CHARS} printable characters"
        )
    query = value.strip()
    if not 0 < len(query) <= MAX_QUERY_CHARS:
        raise ValueError(
            f"a search must be 1 to {MAX_QUERY_CHARS} printable characters, "
            f"got {len(query):,}"
        )
    return query


def search(model: LoadedModel, query: Any) -> np.ndarray:
    """The test images a search finds, sorted int64 ids. ``query`` (checked
    with :func:`check_query`) is, in this order: ``#123``, a test index; a
    class name (whole, any case), every image of that class (MNIST's classes
    are named by digits: ``7`` finds the sevens, ``#7`` image 7); ``123``, a
    test index; else part of a file name (any case; own image folders).
    Empty when nothing matches."""
    query = check_query(query)
    n = model.labels.shape[0]
    if query.startswith("#"):
        return _index(query[1:], n)
    lowered = query.casefold()
    names = model.class_names or ()
    matches = [i for i, name in enumerate(names) if name.casefold() == lowered]
    if matches:
        return np.flatnonzero(np.isin(model.labels, matches)).astype(np.int64)
    if query.isascii() and query.isdigit():
        return _index(query, n)
    if model.file_names is None:
        return np.zeros(0, np.int64)
    files = np.char.lower(model.file_names)
    return np.flatnonzero(np.char.find(files, query.lower()) >= 0).astype(np.int64)


def _index(digits: str, n: int) -> np.ndarray:
    """The test index ``digits`` names, as a one-id array (empty if it is no
    index below ``n``)."""
    if not (digits.isascii() and digits.isdigit()) or len(digits) > len(str(n)):
        return np.zeros(0, np.int64)
    index = int(digits)
    return np.array([index] if index < n else [], np.int64)
