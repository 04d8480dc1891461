"""The map's selection (a lasso or box on the WebGL map): its count per
class, the means of its per-image figures, its real images in a paged grid,
a button that moves z to its mean latent, and its image ids as CSV."""

from __future__ import annotations

import numpy as np
import streamlit as st

from vaeapp.core.text import cut, plain
from vaeapp.explore.selection import SelectionSummary, ids_csv, selection_summary
from vaeapp.store.records import LoadedModel
from vaeapp.ui import state
from vaeapp.ui.state import K
from vaeapp.web.image_chunks import images_note

GRID_COLUMNS = 12  # images per row of the selection's grid
GRID_ROWS = 4  # rows per page
SCALE = 2  # screen pixels per image pixel
SUMMARY_CHARS = 2_000  # of the selection's one-line summary (many classes)


def page_of_images(model: LoadedModel, ids: np.ndarray, page: int) -> np.ndarray | None:
    """Page ``page`` (from 0) of the images ``ids`` as one uint8 picture of up
    to GRID_ROWS x GRID_COLUMNS tiles, white where a row is not full: ``(rows
    * h * SCALE, GRID_COLUMNS * w * SCALE)`` grey, ``(..., 3)`` colour, white
    too for an image this server has no pixels of; None when it has none."""
    if model.image_count == 0:
        return None
    h, w, c = model.image_shape
    per_page = GRID_ROWS * GRID_COLUMNS
    shown = ids[page * per_page : (page + 1) * per_page]
    rows = max(1, -(-len(shown) // GRID_COLUMNS))
    tiles = np.full((rows * GRID_COLUMNS, h, w, c), 255, np.uint8)
    have = np.flatnonzero(shown < model.image_count)
    tiles[have] = model.point_images(shown[have]).reshape(-1, h, w, c)
    grid = tiles.reshape(rows, GRID_COLUMNS, h, w, c).transpose(0, 2, 1, 3, 4)
    grid = grid.reshape(rows * h, GRID_COLUMNS * w, c)
    grid = np.repeat(np.repeat(grid, SCALE, axis=0), SCALE, axis=1)
    return grid[:, :, 0] if c == 1 else grid


def _summary_text(summary: SelectionSummary) -> str:
    parts = [f"{summary.count:,} images"]
    if summary.class_counts:
        parts.append(", ".join(f"{n}: {k:,}" for n, k in summary.class_counts if k))
    if summary.factor_means:
        parts.append(", ".join(f"mean {n} {v:.2f}" for n, v in summary.factor_means))
    names = {"elbo": "−ELBO", "recon": "reconstruction", "kl": "KL"}
    if summary.figure_means:
        means = summary.figure_means.items()
        parts.append(", ".join(f"mean {names.get(k, k)} {v:.1f}" for k, v in means))
    return ". ".join(parts)


def _move_to(model: LoadedModel, z: np.ndarray) -> None:
    state.change_z(z.tolist(), model.record.model.latent_dim)


def selection_panel(model: LoadedModel) -> None:
    """The selection's panel under the map; nothing when there is none."""
    ids = state.selection()
    if not isinstance(ids, np.ndarray):
        return
    summary = selection_summary(model, ids)
    with st.container(border=True):
        st.markdown("**Selection on the map**")
        st.text(cut(_summary_text(summary), SUMMARY_CHARS))  # text, not Markdown
        left, middle, right = st.columns(3)
        if summary.mean_latent is not None:
            left.button(
                "Move z to the selection's mean",
                key=K.SELECTION_MEAN,
                on_click=_move_to,
                args=(model, summary.mean_latent),
            )
            middle.download_button(
                "Download ids (CSV)",
                lambda: ids_csv(model, ids),
                file_name="selection.csv",
                mime="text/csv",
                key=K.SELECTION_CSV,
            )
        else:
            st.caption("No point lies inside the outline among the classes shown.")
        right.button(
            "Clear selection",
            key=K.SELECTION_CLEAR,
            on_click=state.set_selection,
            args=(None,),
        )
        if summary.count:
            _image_grid(model, ids)


def _image_grid(model: LoadedModel, ids: np.ndarray) -> None:
    per_page = GRID_ROWS * GRID_COLUMNS
    pages = -(-int(ids.size) // per_page)
    page = 1
    if pages > 1:
        label = f"Page of images (of {pages:,})"
        page = int(st.number_input(label, 1, pages, 1, key=K.SELECTION_PAGE))
    picture = page_of_images(model, ids, page - 1)
    if picture is None:
        st.caption(plain(images_note(model) or ""))
        return
    st.image(picture)
    if ids.max(initial=-1) >= model.image_count:  # blank tiles: say why
        st.caption(plain(images_note(model) or ""))
