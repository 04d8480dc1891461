"""The sidebar: the active model and its switcher, then retraining."""

from __future__ import annotations

import streamlit as st

from vaeapp.store import LoadedModel
from vaeapp.ui import retrain
from vaeapp.ui.model_panel import model_panel


def sidebar(model: LoadedModel) -> None:
    """Draw the sidebar for ``model``."""
    with st.sidebar:
        model_panel(model)
        st.divider()
        retrain.retrain_section()
