"""The explorer view: the latent map with its live pad, the selected image, the
z sliders and the inspection panel, in one keyed fragment."""

from __future__ import annotations

import numpy as np
import streamlit as st

from vaeapp.core.latent import outside
from vaeapp.core.text import plain
from vaeapp.explore.images import digit_image, png_bytes
from vaeapp.explore.projection import (
    AXES,
    PCA,
    UMAP,
    Plane,
    StoredPlane,
    axes_plane,
    map_extent,
    pca_plane,
    plane_click_to_z,
    stored_plane,
    views_of,
)
from vaeapp.store.records import LoadedModel
from vaeapp.ui import state
from vaeapp.ui.components.image_view import scale_for
from vaeapp.ui.components.latent_map import latent_explorer
from vaeapp.ui.components.z_sliders import z_sliders
from vaeapp.ui.events import map_commit, slider_z
from vaeapp.ui.state import K, Views
from vaeapp.ui.tools.own_picture import own_posterior
from vaeapp.ui.tools.paths import map_path
from vaeapp.ui.tools.samples import map_samples
from vaeapp.ui.views.grid import grid_extent
from vaeapp.ui.views.inspect import inspect_panel, inspected_ellipse
from vaeapp.ui.views.selection import selection_panel
from vaeapp.web.assets import model_token

DIGIT_PX = 224  # the selected image: 28x28 MNIST shown 8 times as large
DIGIT_CAPTION = "Selected z"
OWN_DIGIT_COLOUR = "#c92a2a"
MAX_SLIDERS_SHOWN = 4
_VIEW_NAMES = {
    AXES: "two latent dimensions",
    PCA: "PCA of the means",
    UMAP: "UMAP (stored)",
}
MapPlane = Plane | StoredPlane


@st.cache_data(show_spinner=False, max_entries=8)
def _pca(token: str, _model: LoadedModel) -> Plane:
    return pca_plane(_model.latent_mean)


@st.cache_resource(show_spinner=False, max_entries=8)
def _stored(token: str, _model: LoadedModel, key: str) -> StoredPlane:
    return stored_plane(_model, key)


def hidden_note(model: LoadedModel, plane: MapPlane, limit: float) -> str | None:
    """What to say when test points lie beyond the map's ``+-limit`` (only a
    folder whose means reach past vaeapp.core.latent.Z_LIMIT_MAX; never on a
    stored plane, whose map holds all its points)."""
    if isinstance(plane, StoredPlane):
        return None
    count = outside(plane.coords(model.latent_mean), limit)
    if not count:
        return None
    total = model.latent_mean.shape[0]
    return (
        f"{count:,} of {total:,} test points lie beyond ±{limit:g} on this "
        "plane and are not drawn."
    )


def map_plane(model: LoadedModel) -> MapPlane:
    """The plane the map shows: two latent dimensions, or (for more than two
    dimensions, when chosen) the first two principal components of the means
    or the UMAP plane the folder stores (PCA for a folder without one)."""
    latent_dim = model.record.model.latent_dim
    view = state.map_view() if latent_dim > 2 else AXES
    if view == UMAP and UMAP in model.planes:
        return _stored(model_token(model), model, UMAP)
    if view in (PCA, UMAP):
        return _pca(model_token(model), model)
    return axes_plane(latent_dim, state.map_dims(latent_dim))


def compared_plane(model: LoadedModel, stored: str | None) -> MapPlane:
    """The map plane of a model the compare view sets beside the active one:
    its own two dimensions; for more than two, the plane ``stored`` (the
    active map's stored plane, "umap") when its folder stores one, else PCA."""
    latent_dim = model.record.model.latent_dim
    if latent_dim <= 2:
        return axes_plane(latent_dim, (0, 1))
    if stored is not None and stored in model.planes:
        return _stored(model_token(model), model, stored)
    return _pca(model_token(model), model)


def map_axis_range(model: LoadedModel, plane: MapPlane) -> tuple[float, float]:
    """The range both map axes show: the model's range of z, ``+-limit``
    (:func:`map_extent`), or around a stored plane's points, whose
    coordinates have nothing to do with z."""
    if isinstance(plane, StoredPlane):
        return plane.axis_range()
    limit = map_extent(plane, model.latent_mean, model.z_limit)
    return -limit, limit


def _dim_name(i: int) -> str:
    return f"z{i + 1}"


def _on_dims(latent_dim: int) -> None:
    """The map's dimensions changed: the map, the grid and the compare
    view's map of this model show them."""
    x, y = state.picked_map_dims()
    if x != y:
        state.set_map_dims((x, y))
    state.redraw([Views.EXPLORER, Views.GRID, Views.COMPARE])


def _dims_picker(model: LoadedModel, latent_dim: int) -> None:
    """For more than two latent dimensions: the map's view (two dimensions,
    PCA, or a plane the folder stores), and the two dimensions it shows (and
    the grid varies)."""
    views = views_of(model)
    if state.map_view() not in views:
        state.set_map_view(PCA)
    x, y = state.map_dims(latent_dim)
    options = list(range(latent_dim))
    c0, c1, c2 = st.columns([3, 1, 1])
    c0.radio(
        "Map shows",
        views,
        format_func=_VIEW_NAMES.get,
        key=K.MAP_VIEW,
        horizontal=True,
        on_change=_on_dims,
        args=(latent_dim,),
        help="PCA: the plane of the two directions in which the encoded test set "
        "varies most. Moving on the map changes z only within the shown plane. "
        "UMAP: a nonlinear plane stored with the model, which keeps neighbours "
        "together; the pointer decodes, and a click selects, a test image's z "
        "or its nearest images' distance-weighted mean.",
    )
    # On the PCA and UMAP planes the two boxes choose only what the grid varies.
    pca = state.map_view() != AXES
    for column, label, key, value in ((c1, "x", K.MAP_X, x), (c2, "y", K.MAP_Y, y)):
        column.selectbox(
            f"Grid {label}" if pca else f"{label} dimension",
            options,
            index=value,
            format_func=_dim_name,
            key=key,
            on_change=_on_dims,
            args=(latent_dim,),
            help="The map shows another plane; this dimension is what the "
            "manifold grid varies."
            if pca
            else None,
        )
    if state.widget(K.MAP_X) == state.widget(K.MAP_Y):
        st.warning("Choose two different dimensions for the map and grid.")


def scale_factors(model: LoadedModel) -> list[int]:
    """The factors the map can be coloured by on a scale: each known factor
    that is not the class itself (the shapes set's x, y, size and hue)."""
    if model.factors is None or not model.factor_names:
        return []
    return [
        f
        for f in range(model.factors.shape[1])
        if not np.array_equal(model.factors[:, f], model.labels)
    ]


def colour_picker(model: LoadedModel) -> int:
    """For a data set with known factors: what colours the map, the class or
    a factor on a colour scale; returns -1 or the factor's index."""
    factors = scale_factors(model)
    if not factors:
        return -1
    names = model.factor_names

    def label(f: int) -> str:
        return "class" if f < 0 else names[f]

    st.radio(
        "Colour the map by",
        [-1, *factors],
        format_func=label,
        key=K.COLOUR_BY,
        horizontal=True,
        help="The data's true factors: which of them each latent axis took up.",
    )
    return state.colour_by()


def _on_commit(model: LoadedModel, plane: MapPlane) -> None:
    """A click on the map: ``[x, y]`` moves z there; ``[x, y, i]`` (a release
    on test point ``i``) moves z to that point's mean and inspects it. On a
    stored plane (UMAP) ``[x, y]`` selects the z of the test image there or
    the mean of its nearest ones, and the page says which."""
    if not state.take_event():
        return
    value = getattr(state.widget(K.EXPLORER), "commit", None)
    latent_dim = model.record.model.latent_dim
    try:
        xy, index = map_commit(value, model.latent_mean.shape[0])
    except ValueError as error:
        state.say(f"Ignored a click from the map: {error}")
        return
    if isinstance(plane, StoredPlane):
        z = _stored_pick(model, plane, xy, index)
    elif index is None:
        state.set_map_pick(None)
        z = plane.lift(np.asarray(xy), state.z())
    else:
        state.set_map_pick(None)
        state.set_inspected(index)
        z = model.latent_mean[index]
    state.change_z(z.tolist(), latent_dim)


def _stored_pick(
    model: LoadedModel, plane: StoredPlane, xy: list[float], index: int | None
) -> np.ndarray:
    """The z ``(latent_dim,)`` a click at ``xy`` on a stored plane selects
    (test image ``index`` when the click was on it), noted for the page."""
    if index is None:
        z, source = plane_click_to_z(plane, np.asarray(xy, np.float64))
    else:
        z, source = model.latent_mean[index], f"test image #{index}"
    if index is not None:
        state.set_inspected(index)
    name = plane.key.upper()
    state.set_map_pick(f"The click on the {name} plane selected the z of {source}.")
    return np.asarray(z, np.float64)


def _on_sliders(latent_dim: int) -> None:
    """The sliders settled: z becomes the point they reached, and the views
    of z rerun (:func:`vaeapp.ui.state.change_z`)."""
    if not state.take_event():
        return
    value = getattr(state.widget(K.Z_SLIDERS), "z", None)
    try:
        z = slider_z(value, latent_dim)
    except ValueError as error:
        state.say(f"Ignored a move of the sliders: {error}")
        return
    state.change_z(z, latent_dim)


def _ellipses(model: LoadedModel, plane: MapPlane) -> list:
    """2-sigma posterior outlines: the user's own picture (red) and the
    inspected test image (blue), where there are such; none on a stored
    plane, which maps no Gaussian to an outline."""
    out = []
    if isinstance(plane, StoredPlane):
        return out
    digit = state.own_digit()
    if digit is not None and digit.size == model.record.model.n_pixels:
        mean, log_var = own_posterior(model_token(model), digit, model)
        outline = plane.ellipse(mean[0], log_var[0], k=2.0)
        out.append((outline.tolist(), OWN_DIGIT_COLOUR))
    inspected = inspected_ellipse(model, plane)
    if inspected:
        out.append(inspected)
    return out


def _projected(points: np.ndarray | None, plane: MapPlane) -> list[list[float]]:
    """Full latent points ``(k, latent_dim)`` on the map's plane ``(k, 2)``."""
    return [] if points is None else plane.coords(points).tolist()


def _selected_digit(model: LoadedModel, latent_dim: int) -> None:
    """The image decoded at the selected z over one slider per latent
    dimension (past the fourth in a box that opens), drawn and decoded in the
    browser as they move."""
    z = state.z()
    pixels = model.vae.decode(z)[0]
    shape = model.image_shape
    scale = scale_for(shape, DIGIT_PX)
    z_sliders(
        model,
        z,
        pixels,
        DIGIT_CAPTION,
        shape[1] * scale,
        MAX_SLIDERS_SHOWN,
        on_z=lambda: _on_sliders(latent_dim),
        key=K.Z_SLIDERS,
    )
    st.download_button(
        "Download image (PNG)",
        # Encoded only when clicked, not on every move of z.
        lambda: png_bytes(digit_image(pixels, scale, shape)),
        file_name="decoded.png",
        mime="image/png",
        key=K.DOWNLOAD_IMAGE,
    )


@state.fragment(Views.EXPLORER)
def explorer_view(model: LoadedModel) -> None:
    """Map, live pad, selected digit, sliders and inspection panel."""
    latent_dim = model.record.model.latent_dim
    message = state.take_message()
    if message:
        st.warning(plain(message))
    if latent_dim > 2:
        _dims_picker(model, latent_dim)
    colour = colour_picker(model)
    plane = map_plane(model)
    axis_range = map_axis_range(model, plane)
    left, right = st.columns([3, 1], gap="medium")
    with left:
        note = hidden_note(model, plane, axis_range[1])
        if note:
            st.caption(note)
        pick = state.map_pick()
        if pick and isinstance(plane, StoredPlane):
            st.caption(plain(pick))
        latent_explorer(
            model,
            [float(v) for v in state.z()],
            plane,
            axis_range,
            grid_extent(model)
            if isinstance(plane, Plane) and plane.key != PCA
            else None,
            on_commit=lambda: _on_commit(model, plane),
            path=_projected(map_path(model), plane),
            samples=_projected(map_samples(latent_dim), plane),
            ellipses=_ellipses(model, plane),
            colour_by=colour,
            key=K.EXPLORER,
        )
        inspect_panel(model, model_token(model))
        selection_panel(model)
    with right:
        _selected_digit(model, latent_dim)
