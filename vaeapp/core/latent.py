"""Checking latent points that come from sliders, clicks, URLs or state."""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

# Sliders and the map span at least +-4 standard deviations of the N(0, I)
# prior, and further where a model's encoded test set lies further out
# (:func:`extent`): a click anywhere on the map is a z the sliders can hold.
Z_LIMIT = 4.0
# The widest a model's range may grow: sliders with steps of 0.01 stay usable,
# and a crafted folder's means of 1e30 cannot stretch the map to nothing. Test
# points beyond it are counted and said, not silently dropped.
Z_LIMIT_MAX = 64.0
EXTENT_MARGIN = 0.1  # the data's extent is widened by a tenth
_STEP = 0.5  # ranges are rounded up to a multiple of this


def extent(points: np.ndarray) -> float:
    """The half-width of the square a map of ``points`` ``(n, k)`` shows: the
    prior's Z_LIMIT, or the largest absolute coordinate widened by
    EXTENT_MARGIN and rounded up to a multiple of 0.5, whichever is wider;
    at most Z_LIMIT_MAX. Non-finite values are ignored."""
    values = np.abs(np.asarray(points, np.float64))
    values = values[np.isfinite(values)]
    if values.size == 0:
        return Z_LIMIT
    wide = math.ceil(float(values.max()) * (1 + EXTENT_MARGIN) / _STEP) * _STEP
    return min(max(Z_LIMIT, wide), Z_LIMIT_MAX)


def outside(points: np.ndarray, limit: float) -> int:
    """How many rows of ``points`` ``(n, k)`` have a coordinate beyond
    ``limit`` (or not finite): the points a map of that extent cannot show."""
    values = np.asarray(points, np.float64)
    inside = np.isfinite(values) & (np.abs(values) <= limit)
    return int(values.shape[0] - np.count_nonzero(inside.all(axis=1)))


def clean_z(
    values: object, latent_dim: int, limit: float = Z_LIMIT
) -> tuple[list[float], str | None]:
    """A usable z of ``latent_dim`` values in [-limit, limit] and a message.

    Non-numbers, NaN and infinities are refused (z becomes zeros there);
    finite values beyond the range are clamped. The message says what was
    changed, or is None when ``values`` was fine.
    """
    if isinstance(values, (str, bytes)) or not isinstance(
        values, Sequence | np.ndarray
    ):
        return [
            0.0
        ] * latent_dim, f"latent point must be a list of {latent_dim} numbers"
    items = list(values)
    if len(items) != latent_dim:
        return [0.0] * latent_dim, (
            f"latent point must have {latent_dim} values, got {len(items)}"
        )
    out, problems = [], []
    for i, item in enumerate(items):
        try:
            value = float(item)
        except (TypeError, ValueError):
            value = math.nan
        if not math.isfinite(value):
            problems.append(f"z{i + 1}={item!r} is not a finite number (set to 0)")
            value = 0.0
        elif abs(value) > limit:
            clamped = math.copysign(limit, value)
            problems.append(
                f"z{i + 1}={value:g} is outside +-{limit:g} (set to {clamped:g})"
            )
            value = clamped
        out.append(value)
    return out, ("; ".join(problems) or None)


def parse_z_text(
    text: str, latent_dim: int, limit: float = Z_LIMIT
) -> tuple[list[float], str | None]:
    """``"0.5,-1.2"`` (e.g. from the URL) -> :func:`clean_z` of the parts."""
    parts = [p.strip() for p in str(text).split(",")]
    return clean_z(parts, latent_dim, limit)
