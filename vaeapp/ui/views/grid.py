"""The manifold grid view: the grid with its controls (drawn and decoded in
the browser), the extent switch and the download, in one keyed fragment."""

from __future__ import annotations

import numpy as np
import streamlit as st

from vaeapp.core.text import plain
from vaeapp.explore.images import png_bytes
from vaeapp.explore.manifold import (
    DATA_SPACING,
    check_grid,
    grid_axes,
    manifold,
)
from vaeapp.store.records import LoadedModel
from vaeapp.ui import state
from vaeapp.ui.components.grid_picture import grid_picture
from vaeapp.ui.events import grid_cell, grid_settings
from vaeapp.ui.state import K, Views
from vaeapp.web.assets import model_token

# What each spacing spans, said on the radio and under the grid.
SPACING_NAMES = {
    "quantile": "prior quantiles",
    "linear": "prior, even steps",
    DATA_SPACING: "data quantiles",
}


def _axes(
    model: LoadedModel, settings: state.GridSettings
) -> tuple[np.ndarray, np.ndarray]:
    """The grid's x and y axes over the map's dimensions."""
    dims = state.map_dims(model.record.model.latent_dim)
    return grid_axes(settings.n, settings.q, settings.spacing, model.latent_mean, dims)


def grid_extent(model: LoadedModel) -> tuple[float, float, float, float] | None:
    """The grid's rectangle on the map ``(x0, x1, y0, y1)``, if it is to be
    shown."""
    settings = state.grid()
    if not settings.show_extent:
        return None
    try:
        xs, ys = _axes(model, settings)
    except ValueError:
        return None
    return (float(xs[0]), float(xs[-1]), float(ys[0]), float(ys[-1]))


def _on_extent() -> None:
    """The extent's drawing on the map follows the grid's settings."""
    state.redraw([Views.GRID, Views.EXPLORER])


def _on_settings() -> None:
    """The grid's controls settled in the browser (which has drawn the grid
    already): keep the settings; the map follows when it shows the extent."""
    if not state.take_event():
        return
    try:
        n, q, spacing = grid_settings(getattr(state.widget(K.GRID), "settings", None))
    except ValueError as error:
        state.say(f"Ignored grid settings from the browser: {error}")
        state.redraw([Views.EXPLORER])  # where messages show; does not return
    state.set_grid(n, q, spacing)
    if state.grid().show_extent:
        _on_extent()
    state.redraw([Views.GRID])


def _on_slow() -> None:
    """The browser decodes this model too slowly for the grid: the server
    draws it from now on."""
    if state.take_event():
        state.set_grid_by_server()
        state.redraw([Views.GRID])


@st.cache_data(show_spinner=False, max_entries=32)
def _grid_image(
    token: str,
    settings: state.GridSettings,
    base: tuple[float, ...],
    dims: tuple[int, int],
    _model: LoadedModel,
) -> np.ndarray:
    base_z = np.asarray(base, np.float32) if base else None
    return manifold(
        _model.vae.decode,
        settings.n,
        settings.q,
        settings.spacing,
        base_z,
        dims,
        _model.image_shape,
        _model.latent_mean,
    )


def grid_base(latent_dim: int) -> tuple[float, ...]:
    """The z the grid holds its other dimensions at: empty for a 2-D model,
    whose grid does not depend on z."""
    return () if latent_dim == 2 else tuple(float(v) for v in state.z())


def _on_cell(model: LoadedModel, xs: np.ndarray, ys: np.ndarray) -> None:
    """A click on a grid cell moves z to that cell's point (on axes ``xs`` and
    ``ys``, each ``(n,)``)."""
    if not state.take_event():
        return
    n = xs.shape[0]
    try:
        row, col = grid_cell(getattr(state.widget(K.GRID), "cell", None), n)
    except ValueError as error:
        state.say(f"Ignored a click from the grid: {error}")
        state.redraw([Views.EXPLORER])  # where messages show; does not return
    latent_dim = model.record.model.latent_dim
    x, y = state.map_dims(latent_dim)
    z = state.z().tolist()
    z[x], z[y] = float(xs[col]), float(ys[n - 1 - row])
    state.change_z(z, latent_dim)


@state.fragment(Views.GRID)
def grid_view(model: LoadedModel) -> None:
    """The manifold grid with its controls, drawn in the browser."""
    st.subheader("Manifold grid")
    settings = state.grid()
    try:
        check_grid(settings.n, settings.q, settings.spacing)
    except ValueError as error:
        st.error(plain(error))
        return
    latent_dim = model.record.model.latent_dim
    dims = state.map_dims(latent_dim)
    xs, ys = _axes(model, settings)
    held = "" if latent_dim == 2 else ", other dimensions at the current z"
    st.caption(
        f"{settings.n}x{settings.n} images decoded at z{dims[0] + 1} in "
        f"[{xs[0]:.2f}, {xs[-1]:.2f}], z{dims[1] + 1} in [{ys[0]:.2f}, {ys[-1]:.2f}]"
        f"{held}: {SPACING_NAMES[settings.spacing]} {settings.q:g} to "
        f"{1 - settings.q:g}. Click a cell to move z there."
    )
    base = grid_base(latent_dim)

    def picture() -> np.ndarray:
        return _grid_image(model_token(model), settings, base, dims, model)

    grid_picture(
        model,
        settings,
        (xs, ys),
        dims,
        np.asarray(base or (0.0,) * latent_dim, np.float32),
        SPACING_NAMES,
        picture() if state.grid_by_server() else None,
        on_settings=_on_settings,
        on_cell=lambda: _on_cell(model, xs, ys),
        on_slow=_on_slow,
        key=K.GRID,
    )
    st.checkbox("Show extent on map", key=K.GRID_SHOW_EXTENT, on_change=_on_extent)
    st.download_button(
        "Download grid (PNG)",
        # Decoded and encoded on the server only when clicked.
        lambda: png_bytes(picture()),
        file_name="manifold.png",
        mime="image/png",
        key=K.DOWNLOAD_GRID,
    )
