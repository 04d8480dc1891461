"""The Neighbours tool: the test images whose latent means lie nearest the
current z, the class they predict, and their distances."""

from __future__ import annotations

import numpy as np
import streamlit as st

from vaeapp.core.text import plain
from vaeapp.explore.analysis import nearest_neighbours
from vaeapp.store.records import LoadedModel
from vaeapp.ui import state
from vaeapp.ui.tools.shared import strip

NEIGHBOURS = 8


def neighbours_tool(model: LoadedModel) -> None:
    """The Neighbours tab: the predicted class, the nearest test images (or
    their reconstructions) as a strip, and a table of them."""
    index, distances, predicted = nearest_neighbours(
        model.latent_mean, model.labels, state.z(), k=NEIGHBOURS
    )
    names = model.class_names
    if names:
        st.markdown(
            f"Predicted class at z by its {NEIGHBOURS} nearest test images: "
            f"**{plain(names[predicted])}**"
        )
    if index.size and index.max() < model.image_count:
        images = model.point_images(index) / np.float32(255)
        caption = "The nearest test images, nearest first"
    else:  # no pixels of them on this server
        images = model.vae.decode(model.latent_mean[index])
        caption = "Reconstructions from the neighbours' latent means"
    st.image(strip(images, model.image_shape), output_format="PNG", caption=caption)
    table = {"test #": index.tolist()}
    if names:
        table["label"] = [names[model.labels[i]] for i in index]
    table["distance"] = np.round(distances, 3).tolist()
    st.dataframe(table, hide_index=True)
