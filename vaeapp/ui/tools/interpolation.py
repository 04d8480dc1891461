"""The Interpolate tool: the images decoded on a straight line from saved A
(or a test image) to the current z, as a strip and an animation, and the
line drawn on the map."""

from __future__ import annotations

import numpy as np
import streamlit as st

from vaeapp.explore.analysis import INTERP_MAX, INTERP_MIN, interpolate
from vaeapp.explore.images import png_bytes
from vaeapp.explore.traversal import FRAME_MS
from vaeapp.store.records import LoadedModel
from vaeapp.ui import state
from vaeapp.ui.components.frames_player import frames_player
from vaeapp.ui.components.image_view import scale_for
from vaeapp.ui.state import K
from vaeapp.ui.tools.shared import STRIP_PX, WITH_MAP, animation, shown_kind, strip

INTERP_DEFAULT = 10
SAVED, DIGITS = "saved A to current z", "two test digits"


def interpolation_points(
    model: LoadedModel, choice: state.PathChoice
) -> np.ndarray | None:
    """The points of interpolation ``choice`` ``(steps, latent_dim)``, ending at
    the current z for a path from saved A; None without a usable A."""
    if choice.source == DIGITS:
        count = model.latent_mean.shape[0]
        i, j = (min(max(v, 0), count - 1) for v in (choice.i, choice.j))
        start, end = model.latent_mean[i], model.latent_mean[j]
    else:
        start, end = state.saved_z(), state.z()
        if start is None or start.shape != end.shape:
            return None
    return interpolate(start, end, choice.steps)


def _interp_choice() -> state.PathChoice:
    """The interpolation the tool's controls describe."""
    return state.PathChoice(
        source=state.widget(K.INTERP_SOURCE) or SAVED,
        steps=int(state.widget(K.INTERP_STEPS) or INTERP_DEFAULT),
        i=int(state.widget(K.INTERP_I) or 0),
        j=int(state.widget(K.INTERP_J) or 0),
    )


def _toggle_path() -> None:
    shown = shown_kind(sweep=False)
    state.set_shown_path(None if shown else _interp_choice())
    state.redraw(WITH_MAP)


def _on_interp_change() -> None:
    """A shown path follows the tool's controls."""
    if shown_kind(sweep=False):
        state.set_shown_path(_interp_choice())
        state.redraw(WITH_MAP)


def interpolation_controls(model: LoadedModel) -> state.PathChoice:
    """Draw the interpolation's controls; return the interpolation chosen."""
    c1, c2 = st.columns([1, 2])
    c1.button("Save current z as A", key=K.SAVE_A, on_click=state.save_z)
    c2.slider(
        "Steps",
        INTERP_MIN,
        INTERP_MAX,
        INTERP_DEFAULT,
        key=K.INTERP_STEPS,
        on_change=_on_interp_change,
    )
    source = st.radio(
        "From",
        (SAVED, DIGITS),
        horizontal=True,
        key=K.INTERP_SOURCE,
        on_change=_on_interp_change,
    )
    if source == DIGITS:
        last = model.latent_mean.shape[0] - 1
        a, b = st.columns(2)
        a.number_input(
            "Test image #", 0, last, 0, key=K.INTERP_I, on_change=_on_interp_change
        )
        b.number_input(
            "to test image #", 0, last, 1, key=K.INTERP_J, on_change=_on_interp_change
        )
    return _interp_choice()


def interpolation_tool(model: LoadedModel) -> None:
    """The Interpolate tab: its controls, the decoded strip and its download,
    the button that shows the path on the map, and the animation."""
    choice = interpolation_controls(model)
    points = interpolation_points(model, choice)
    if points is None:
        st.info("Save a point A first, then move z and come back.")
        return
    shape = model.image_shape
    frames_player(
        model,
        points,
        "strip",
        "A → B, decoded at equal steps",
        shape[1] * scale_for(shape, STRIP_PX),
        FRAME_MS,
        K.INTERP_STRIP,
    )
    c1, c2 = st.columns(2)
    c1.download_button(
        "Download strip (PNG)",
        # Decoded and encoded on the server only when clicked.
        lambda: png_bytes(strip(model.vae.decode(points), shape)),
        "interpolation.png",
        "image/png",
        key=K.DOWNLOAD_STRIP,
    )
    shown = shown_kind(sweep=False)
    c2.button(
        "Hide path on map" if shown else "Show path on map",
        key=K.PATH_BUTTON,
        on_click=_toggle_path,
    )
    if st.toggle("Play as an animated GIF", key=K.INTERP_GIF):
        animation(
            model,
            points,
            "A → B and back, decoded at the same steps",
            "interpolation.gif",
            K.DOWNLOAD_INTERP_GIF,
        )
