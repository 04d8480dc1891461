"""Checks of what the page's components send back from the browser.

The browser side of a component can be modified to send anything JSON can
carry (and Python's ``json`` also reads ``NaN``, ``Infinity`` and integers of
any length). Each function here takes such a value and returns it in the shape
the app uses, or raises ``ValueError`` saying what was wrong and what is
allowed; callers ignore a refused event with a message.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from vaeapp.core.text import cut
from vaeapp.explore.manifold import GRID_N_MAX, SPACINGS
from vaeapp.explore.selection import check_polygon
from vaeapp.web.view_settings import Q_MAX, Q_MIN

COORD_LIMIT = 1e6  # map coordinates beyond this are not a click on the map
_SHOWN = 60  # characters of a refused value quoted in a message


def _quote(value: Any) -> str:
    try:
        text = repr(value)
    except (ValueError, RecursionError):  # e.g. an int too long to print
        text = f"a {type(value).__name__}"
    return cut(text, _SHOWN)


def _whole(value: Any, what: str, count: int) -> int:
    """``value`` as an index in ``0 .. count - 1``."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError(f"{what} must be a whole number, got {_quote(value)}")
    if not 0 <= value < count:
        raise ValueError(
            f"{what} must be between 0 and {count - 1}, got {_quote(value)}"
        )
    return value


def _coordinate(value: Any, what: str) -> float:
    """``value`` as a finite float within :data:`COORD_LIMIT`."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ValueError(f"{what} must be a number, got {_quote(value)}")
    if isinstance(value, int) and abs(value) > COORD_LIMIT:
        raise ValueError(f"{what} must be within ±{COORD_LIMIT:g}")
    number = float(value)
    if not math.isfinite(number) or abs(number) > COORD_LIMIT:
        raise ValueError(f"{what} must be a finite number within ±{COORD_LIMIT:g}")
    return number


def map_commit(value: Any, points: int) -> tuple[tuple[float, float], int | None]:
    """A click on the map, ``[x, y]``, or a release on test point ``i``,
    ``[x, y, i]`` (``0 <= i < points``) -> ``((x, y), i or None)``."""
    if not isinstance(value, list) or len(value) not in (2, 3):
        raise ValueError(
            f"a map click must be [x, y] or [x, y, i], got {_quote(value)}"
        )
    xy = (_coordinate(value[0], "x"), _coordinate(value[1], "y"))
    index = _whole(value[2], "test point", points) if len(value) == 3 else None
    return xy, index


def grid_cell(value: Any, n: int) -> tuple[int, int]:
    """A click on the grid, ``[row, col]`` with both in ``0 .. n - 1``."""
    if not isinstance(value, list) or len(value) != 2:
        raise ValueError(f"a grid click must be [row, col], got {_quote(value)}")
    return _whole(value[0], "row", n), _whole(value[1], "column", n)


MAX_CLASSES = 1_000  # class indices a selection may list


def map_selection(value: Any, classes: int) -> tuple[np.ndarray, list[int]]:
    """A lasso or box on the map, ``{"polygon": [[x, y], ...], "classes":
    [c, ...], ...}`` -> (the polygon ``(m, 2)``, checked by
    :func:`vaeapp.explore.selection.check_polygon`; the shown class indices
    in ``0 .. classes - 1``, sorted, each once). Other keys (the browser's
    own count) are ignored."""
    if not isinstance(value, dict):
        raise ValueError(f"a selection must be an object, got {_quote(value)}")
    polygon = check_polygon(value.get("polygon"))
    shown = value.get("classes")
    if not isinstance(shown, list) or len(shown) > min(classes, MAX_CLASSES):
        raise ValueError(
            f"a selection's classes must be a list of at most {classes} class "
            f"indices, got {_quote(shown)}"
        )
    indices = sorted({_whole(c, "class", max(classes, 1)) for c in shown})
    return polygon, indices


def slider_z(value: Any, latent_dim: int) -> list[float]:
    """The z the sliders reached, a list of ``latent_dim`` finite numbers
    (within :data:`COORD_LIMIT`; :func:`vaeapp.core.latent.clean_z` then
    clamps them to the model's range)."""
    if not isinstance(value, list) or len(value) != latent_dim:
        raise ValueError(
            f"the sliders' z must be a list of {latent_dim} numbers, "
            f"got {_quote(value)}"
        )
    return [_coordinate(v, f"z{i + 1}") for i, v in enumerate(value)]


def grid_settings(value: Any) -> tuple[int, float, str]:
    """The grid's settings from its controls, ``{"n", "q", "spacing"}``:
    ``n`` whole in 2..GRID_N_MAX, ``q`` in Q_MIN..Q_MAX, a known spacing."""
    if not isinstance(value, dict) or set(value) != {"n", "q", "spacing"}:
        raise ValueError(
            f"grid settings must be {{n, q, spacing}}, got {_quote(value)}"
        )
    n = _whole(value["n"], "grid size n", GRID_N_MAX + 1)
    if n < 2:
        raise ValueError(f"grid size n must be at least 2, got {n}")
    q = _coordinate(value["q"], "quantile q")
    if not Q_MIN <= q <= Q_MAX:
        raise ValueError(f"quantile q must be between {Q_MIN} and {Q_MAX}, got {q:g}")
    if value["spacing"] not in SPACINGS:
        raise ValueError(
            f"spacing must be one of {', '.join(SPACINGS)}, "
            f"got {_quote(value['spacing'])}"
        )
    return n, q, value["spacing"]
