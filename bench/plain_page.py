"""The page a user would write by hand, as the page-speed benchmark's yardstick.

``streamlit run bench/plain_page.py``: a 10,000-point ``Scattergl`` in ten
traces drawn with ``st.plotly_chart``, two sliders and one ``st.image`` of a
28x28 picture that follows them. It uses nothing of :mod:`vaeapp`, so that it
costs what such a page costs: Streamlit's own Plotly chunk and the figure's JSON
on every visit.
"""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go
import streamlit as st

st.set_page_config(page_title="Plain page", layout="wide")
st.title("Plain latent map")

rng = np.random.default_rng(0)
points = rng.normal(size=(10_000, 2)).astype(np.float32)
labels = rng.integers(0, 10, size=10_000)

z1 = st.slider("z1", -4.0, 4.0, 0.0, 0.05)
z2 = st.slider("z2", -4.0, 4.0, 0.0, 0.05)

figure = go.Figure()
for digit in range(10):
    chosen = points[labels == digit]
    figure.add_trace(
        go.Scattergl(
            x=chosen[:, 0], y=chosen[:, 1], mode="markers", name=str(digit),
            marker={"size": 4, "opacity": 0.65},
        )
    )  # fmt: skip
figure.update_layout(height=480, margin={"l": 40, "r": 8, "t": 8, "b": 40})

left, right = st.columns([3, 1])
with left:
    st.plotly_chart(figure)
with right:
    yy, xx = np.mgrid[-1:1:28j, -1:1:28j]
    picture = np.exp(-((xx - z1 / 4) ** 2 + (yy - z2 / 4) ** 2) * 4)
    st.image((255 * picture).astype(np.uint8), width=224, caption="digit")
