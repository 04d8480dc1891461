"""The map's selection (a lasso or box on the WebGL map): its count per
class, its real images in a paged grid, a button that moves z to its mean
latent, and its image ids as CSV."""

from __future__ import annotations

import numpy as np
import streamlit as st

from vaeapp.core.text import plain
from vaeapp.explore.map_selection import Selection
from vaeapp.store.records import LoadedModel
from vaeapp.ui import state
from vaeapp.ui.state import K

GRID_COLUMNS = 12  # images per row of the selection's grid
GRID_ROWS = 4  # rows per page
SCALE = 2  # pixels per image pixel


def page_of_images(model: LoadedModel, ids: np.ndarray, page: int) -> np.ndarray | None:
    """Page ``page`` (from 0) of the images ``ids`` as one uint8 picture of
    GRID_ROWS x GRID_COLUMNS tiles (``(rows * h * SCALE, GRID_COLUMNS * w *
    SCALE)``, ``(..., 3)`` for colour), or None when the folder holds none."""
    if model.test_images is None:
        return None
    h, w, c = model.image_shape
    per_page = GRID_ROWS * GRID_COLUMNS
    shown = ids[page * per_page : (page + 1) * per_page]
    rows = -(-len(shown) // GRID_COLUMNS)
    tiles = np.full((rows * GRID_COLUMNS, h, w, c), 255, np.uint8)
    tiles[: len(shown)] = model.test_images[shown].reshape(-1, h, w, c)
    grid = tiles.reshape(rows, GRID_COLUMNS, h, w, c).transpose(0, 2, 1, 3, 4)
    grid = grid.reshape(rows * h, GRID_COLUMNS * w, c)
    grid = np.repeat(np.repeat(grid, SCALE, axis=0), SCALE, axis=1)
    return grid[:, :, 0] if c == 1 else grid


def _move_to_mean(model: LoadedModel, picked: Selection) -> None:
    state.change_z(picked.mean_latent(model).tolist(), model.record.model.latent_dim)


def selection_panel(model: LoadedModel) -> None:
    """The selection's panel under the map; nothing when there is none."""
    picked = state.selection()
    if not isinstance(picked, Selection):
        return
    count = int(picked.ids.size)
    with st.container(border=True):
        st.markdown("**Selection on the map**")
        counts = ", ".join(f"{name}: {n}" for name, n in picked.class_counts(model))
        st.text(plain(f"{count} images. {counts}"))
        if not count:
            st.caption("No point lies inside the lasso among the classes shown.")
        left, middle, right = st.columns(3)
        if count:
            left.button(
                "Move z to the selection's mean",
                key=K.SELECTION_MEAN,
                on_click=_move_to_mean,
                args=(model, picked),
            )
            middle.download_button(
                "Download ids (CSV)",
                lambda: picked.ids_csv(model),
                file_name="selection.csv",
                mime="text/csv",
                key=K.SELECTION_CSV,
            )
        right.button(
            "Clear selection",
            key=K.SELECTION_CLEAR,
            on_click=state.set_selection,
            args=(None,),
        )
        if count:
            _image_grid(model, picked)


def _image_grid(model: LoadedModel, picked: Selection) -> None:
    per_page = GRID_ROWS * GRID_COLUMNS
    pages = -(-int(picked.ids.size) // per_page)
    page = 1
    if pages > 1:
        page = int(
            st.number_input(f"Page (of {pages})", 1, pages, 1, key=K.SELECTION_PAGE)
        )
    picture = page_of_images(model, picked.ids, page - 1)
    if picture is None:
        st.caption("This model folder holds no held-out images to show.")
        return
    st.image(picture)
