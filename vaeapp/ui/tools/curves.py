"""The Training curves tool: the losses per epoch, and the manifold grid
saved after each snapshot epoch."""

from __future__ import annotations

import plotly.graph_objects as go
import streamlit as st

from vaeapp.store.format import held_out_curve
from vaeapp.store.records import LoadedModel
from vaeapp.ui.state import K


def curves_tool(model: LoadedModel) -> None:
    """The Training curves tab: reconstruction and KL per epoch (and the
    held-out ones when the history has them), then the saved grids."""
    history = model.record.metrics.get("history", [])
    if not history:
        st.info("This model has no per-epoch history.")
        return
    epochs = list(range(1, len(history) + 1))
    figure = go.Figure()
    curves = [("recon", "train reconstruction"), ("kl", "train KL")]
    held_out = held_out_curve(history)
    if held_out is not None:
        prefix = held_out[0].removesuffix("_neg_elbo")
        kind = held_out[1].removesuffix(" −ELBO")
        curves += [(f"{prefix}_recon", f"{kind} reconstruction"), held_out]
    for key, label in curves:
        values = [row.get(key) if isinstance(row, dict) else None for row in history]
        figure.add_scatter(x=epochs, y=values, name=label)
    figure.update_layout(
        height=320,
        margin=dict(l=10, r=10, t=10, b=10),
        xaxis_title="epoch",
        yaxis_title="nats per image",
    )
    st.plotly_chart(figure, key=K.HISTORY_CHART)
    if model.snapshots:
        epochs_saved = sorted(model.snapshots)
        epoch = st.select_slider(
            "Manifold grid after epoch",
            epochs_saved,
            value=epochs_saved[-1],
            key=K.SNAPSHOT_EPOCH,
        )
        st.image(model.snapshots[epoch], output_format="PNG", width=360)
