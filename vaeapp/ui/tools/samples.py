"""The Sample tool: images decoded from draws of the prior N(0, I), which the
map marks as stars."""

from __future__ import annotations

import numpy as np
import streamlit as st

from vaeapp.explore.analysis import SAMPLES_MAX, prior_samples
from vaeapp.store.records import LoadedModel
from vaeapp.ui import state
from vaeapp.ui.state import K
from vaeapp.ui.tools.shared import WITH_MAP, strip
from vaeapp.web.view_settings import SAMPLE_COUNT_DEFAULT

TEMPERATURE_MIN, TEMPERATURE_MAX, TEMPERATURE_STEP = 0.1, 2.0, 0.1


def map_samples(latent_dim: int) -> np.ndarray | None:
    """The prior samples shown on the map ``(count, latent_dim)``, if any."""
    drawn = state.samples()
    if drawn is None:
        return None
    count, temperature, seed = drawn
    return prior_samples(count, latent_dim, temperature, seed)


def _draw_samples() -> None:
    state.draw_samples()
    state.redraw(WITH_MAP)


def _clear_samples() -> None:
    state.clear_samples()
    state.redraw(WITH_MAP)


def samples_tool(model: LoadedModel) -> None:
    """The Sample tab: how many and how hot, the buttons that draw and clear
    samples, and the samples decoded as a strip."""
    c1, c2 = st.columns(2)
    c1.slider("How many", 1, SAMPLES_MAX, SAMPLE_COUNT_DEFAULT, key=K.SAMPLE_COUNT)
    c2.slider(
        "Temperature",
        TEMPERATURE_MIN,
        TEMPERATURE_MAX,
        1.0,
        TEMPERATURE_STEP,
        key=K.SAMPLE_TEMP,
    )
    c1, c2 = st.columns(2)
    c1.button("Draw from the prior N(0, I)", on_click=_draw_samples, key=K.DRAW_SAMPLES)
    z = map_samples(model.record.model.latent_dim)
    if z is None:
        return
    c2.button("Clear samples", on_click=_clear_samples, key=K.CLEAR_SAMPLES)
    st.image(
        strip(model.vae.decode(z), model.image_shape),
        output_format="PNG",
        caption=f"{len(z)} samples from the prior (white stars on the map)",
    )
