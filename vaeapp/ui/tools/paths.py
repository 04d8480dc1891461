"""The path drawn on the map: the interpolation's or the axis sweep's,
whichever tool last showed one (the explorer view draws it)."""

from __future__ import annotations

import numpy as np

from vaeapp.store.records import LoadedModel
from vaeapp.ui import state
from vaeapp.ui.tools.interpolation import interpolation_points
from vaeapp.ui.tools.shared import SWEEP
from vaeapp.ui.tools.sweep import sweep_points


def map_path(model: LoadedModel) -> np.ndarray | None:
    """The path drawn on the map ``(steps, latent_dim)`` (an interpolation or
    an axis sweep), if any."""
    choice = state.shown_path()
    if choice is None:
        return None
    if choice.source == SWEEP:
        return sweep_points(model, choice)
    return interpolation_points(model, choice)
