"""The Sweep an axis tool: one latent dimension swept through the current z
as an animation, and its path drawn on the map."""

from __future__ import annotations

import numpy as np
import streamlit as st

from vaeapp.explore.projection import PCA
from vaeapp.explore.traversal import (
    SWEEP_FRAMES,
    SWEEP_FRAMES_MAX,
    SWEEP_FRAMES_MIN,
    SWEEP_LIMIT,
    axis_sweep,
)
from vaeapp.store.records import LoadedModel
from vaeapp.ui import state
from vaeapp.ui.state import K
from vaeapp.ui.tools.shared import SWEEP, WITH_MAP, animation, shown_kind


def sweep_points(model: LoadedModel, choice: state.PathChoice) -> np.ndarray | None:
    """The points of axis sweep ``choice`` ``(steps, latent_dim)`` through the
    current z; None if its dimension or frame count no longer fits."""
    latent_dim = model.record.model.latent_dim
    if not 0 <= choice.i < latent_dim:
        return None
    if not SWEEP_FRAMES_MIN <= choice.steps <= SWEEP_FRAMES_MAX:
        return None
    return axis_sweep(state.z(), choice.i, choice.steps)


def _sweep_choice() -> state.PathChoice:
    """The axis sweep the tool's controls describe."""
    return state.PathChoice(
        source=SWEEP,
        steps=int(state.widget(K.SWEEP_FRAMES) or SWEEP_FRAMES),
        i=int(state.widget(K.SWEEP_DIM) or 0),
    )


def _toggle_sweep() -> None:
    shown = shown_kind(sweep=True)
    state.set_shown_path(None if shown else _sweep_choice())
    state.redraw(WITH_MAP)


def _on_sweep_change() -> None:
    """A sweep shown on the map follows the tool's controls."""
    if shown_kind(sweep=True):
        state.set_shown_path(_sweep_choice())
        state.redraw(WITH_MAP)


def sweep_controls(latent_dim: int) -> state.PathChoice:
    """Draw the axis sweep's controls; return the sweep chosen."""
    c1, c2 = st.columns(2)
    c1.selectbox(
        "Latent dimension",
        list(range(latent_dim)),
        format_func=lambda i: f"z{i + 1}",
        key=K.SWEEP_DIM,
        on_change=_on_sweep_change,
    )
    c2.slider(
        "Frames",
        SWEEP_FRAMES_MIN,
        SWEEP_FRAMES_MAX,
        SWEEP_FRAMES,
        2,
        key=K.SWEEP_FRAMES,
        on_change=_on_sweep_change,
    )
    return _sweep_choice()


def _plane_note(latent_dim: int, dim: int) -> str:
    """Where the sweep shows on the map, which shows two dimensions or PCA."""
    if latent_dim == 2:
        return "Its path on the map is a line across it."
    if state.map_view() == PCA:
        return "On the map (PCA plane) its path is this axis's shadow on the plane."
    if dim in state.map_dims(latent_dim):
        return "Its path on the map is a line across it."
    return (
        f"The map shows other dimensions than z{dim + 1}: there the path is a "
        "single point."
    )


def sweep_tool(model: LoadedModel) -> None:
    """The Sweep an axis tab: its controls, the animation and its download,
    and the button that shows the sweep on the map."""
    latent_dim = model.record.model.latent_dim
    choice = sweep_controls(latent_dim)
    points = sweep_points(model, choice)
    if points is None:
        st.info("Choose a dimension of this model.")
        return
    name = f"z{choice.i + 1}"
    limit = f"{SWEEP_LIMIT:g}"
    animation(
        model,
        points,
        f"{name} from −{limit} to +{limit} (prior sigma) and back, the others at z",
        f"sweep-{name}.gif",
        K.DOWNLOAD_SWEEP_GIF,
    )
    shown = shown_kind(sweep=True)
    st.button(
        "Hide sweep on map" if shown else "Show sweep on map",
        key=K.SWEEP_PATH_BUTTON,
        on_click=_toggle_sweep,
    )
    st.caption(_plane_note(latent_dim, choice.i))
