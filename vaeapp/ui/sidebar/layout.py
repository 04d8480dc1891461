"""The sidebar: the active model and its switcher, then retraining."""

from __future__ import annotations

import streamlit as st

from vaeapp.store.records import LoadedModel
from vaeapp.ui.sidebar import retrain
from vaeapp.ui.sidebar.model_panel import model_panel


def sidebar(model: LoadedModel) -> None:
    """Draw the sidebar for ``model``."""
    with st.sidebar:
        model_panel(model)
        st.divider()
        retrain.retrain_section()
