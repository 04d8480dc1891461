"""Checking latent points that come from sliders, clicks, URLs or state."""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

# Sliders and the map span +-4 standard deviations of the N(0, I) prior: a
# click anywhere on the map is a z the sliders can hold.
Z_LIMIT = 4.0


def clean_z(values: object, latent_dim: int) -> tuple[list[float], str | None]:
    """A usable z of ``latent_dim`` values in [-Z_LIMIT, Z_LIMIT] and a message.

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
        elif abs(value) > Z_LIMIT:
            clamped = math.copysign(Z_LIMIT, value)
            problems.append(
                f"z{i + 1}={value:g} is outside +-{Z_LIMIT:g} (set to {clamped:g})"
            )
            value = clamped
        out.append(value)
    return out, ("; ".join(problems) or None)


def parse_z_text(text: str, latent_dim: int) -> tuple[list[float], str | None]:
    """``"0.5,-1.2"`` (e.g. from the URL) -> :func:`clean_z` of the parts."""
    parts = [p.strip() for p in str(text).split(",")]
    return clean_z(parts, latent_dim)
