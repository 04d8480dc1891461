"""The session's latent point z, kept in step with its sliders."""

from __future__ import annotations

import streamlit as st

from vaeapp.latent import clean_z
from vaeapp.ui import keys


def slider_key(i: int) -> str:
    """Session-state key of the slider for latent dimension ``i``."""
    return f"{keys.SLIDER_PREFIX}{i}"


def set_z(values: object, latent_dim: int) -> None:
    """Validate ``values`` and make it the session's z, sliders included."""
    z, problem = clean_z(values, latent_dim)
    if problem:
        st.session_state[keys.MESSAGE] = problem
    st.session_state[keys.Z] = z
    for i, value in enumerate(z):
        st.session_state[slider_key(i)] = value
