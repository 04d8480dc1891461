"""The Latent dimensions tool: the mean KL of each latent dimension, which
shows the unused ones."""

from __future__ import annotations

import plotly.graph_objects as go
import streamlit as st

from vaeapp.explore.analysis import kl_per_dimension
from vaeapp.store.records import LoadedModel
from vaeapp.ui.state import K


def dimensions_tool(model: LoadedModel) -> None:
    """The Latent dimensions tab: a bar per dimension of its mean KL over the
    test images."""
    kl = kl_per_dimension(model.latent_mean, model.latent_log_var)
    figure = go.Figure(go.Bar(x=[f"z{i + 1}" for i in range(kl.shape[0])], y=kl))
    figure.update_layout(
        height=260, margin=dict(l=10, r=10, t=10, b=10), yaxis_title="mean KL (nats)"
    )
    st.plotly_chart(figure, key=K.KL_CHART)
    st.caption("Dimensions with KL near 0 are unused: their posterior is the prior.")
