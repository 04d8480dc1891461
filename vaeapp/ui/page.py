"""The explorer page: latent map with pad, sliders, decoded digit, manifold grid."""

from __future__ import annotations

import numpy as np
import streamlit as st

from vaeapp.browser_assets import model_token
from vaeapp.config import IMAGE_SIDE
from vaeapp.images import digit_image, png_bytes
from vaeapp.latent import MAP_LIMIT, Z_LIMIT, clean_z, parse_z_text
from vaeapp.manifold import (
    GRID_N_DEFAULT,
    GRID_N_MAX,
    GRID_Q_DEFAULT,
    SPACINGS,
    check_grid,
    grid_axis,
    manifold,
)
from vaeapp.projection import AXES, PCA, VIEWS, Plane, axes_plane, pca_plane
from vaeapp.store import LoadedModel
from vaeapp.ui import keys
from vaeapp.ui.digit_view import digit_picture
from vaeapp.ui.explorer import latent_explorer
from vaeapp.ui.grid_view import grid_picture
from vaeapp.ui.inspect_view import inspect_panel, inspected_ellipse, pick
from vaeapp.ui.latent_state import set_z, slider_key
from vaeapp.ui.models import active_model
from vaeapp.ui.sidebar import sidebar
from vaeapp.ui.tools import tools_section

DIGIT_SCALE = 8
DIGIT_CAPTION = "Decoded at the selected z"
OWN_DIGIT_COLOUR = "#c92a2a"
MAX_SLIDERS_SHOWN = 4


def _init_z(model: LoadedModel) -> None:
    """Start at the origin or the URL's ``?z=``; re-check z set from outside."""
    latent_dim = model.record.model.latent_dim
    current = st.session_state.get(keys.Z)
    if current is None:
        text = st.query_params.get("z")
        if text is not None:
            z, problem = parse_z_text(text, latent_dim)
            if problem:
                st.session_state[keys.MESSAGE] = f"URL parameter z: {problem}"
            set_z(z, latent_dim)
        else:
            set_z([0.0] * latent_dim, latent_dim)
        return
    _, problem = clean_z(current, latent_dim)
    if problem or any(slider_key(i) not in st.session_state for i in range(latent_dim)):
        set_z(current, latent_dim)


def _on_slider(latent_dim: int) -> None:
    set_z([st.session_state[slider_key(i)] for i in range(latent_dim)], latent_dim)


def _on_commit(model: LoadedModel, plane: Plane) -> None:
    """A click on the map: ``[x, y]`` sets z there; ``[x, y, i]`` (a release on
    test point ``i``) moves z to that point's mean and inspects it."""
    value = st.session_state["explorer"].commit
    latent_dim = model.record.model.latent_dim
    if not isinstance(value, list) or len(value) not in (2, 3):
        st.session_state[keys.MESSAGE] = "ignored a malformed click from the map"
        return
    if len(value) == 3:
        problem = pick(model, value[2])
        if problem:
            st.session_state[keys.MESSAGE] = problem
            return
        set_z(model.latent_mean[value[2]].tolist(), latent_dim)
        return
    if not all(isinstance(v, (int, float)) for v in value):
        st.session_state[keys.MESSAGE] = "ignored a malformed click from the map"
        return
    set_z(plane.lift(value, st.session_state[keys.Z]).tolist(), latent_dim)


def _sliders(latent_dim: int) -> None:
    def one(i: int) -> None:
        st.slider(
            f"z{i + 1}",
            min_value=-Z_LIMIT,
            max_value=Z_LIMIT,
            step=0.01,
            key=slider_key(i),
            on_change=_on_slider,
            args=(latent_dim,),
        )

    for i in range(min(latent_dim, MAX_SLIDERS_SHOWN)):
        one(i)
    if latent_dim > MAX_SLIDERS_SHOWN:
        first = MAX_SLIDERS_SHOWN + 1
        label = (
            f"Dimension {first}"
            if first == latent_dim
            else f"Dimensions {first} to {latent_dim}"
        )
        with st.expander(label):
            for i in range(MAX_SLIDERS_SHOWN, latent_dim):
                one(i)


def _grid_rect() -> tuple[float, float, float, float] | None:
    if not st.session_state.get(keys.GRID_SHOW_EXTENT):
        return None
    try:
        axis = grid_axis(
            st.session_state[keys.GRID_N],
            st.session_state[keys.GRID_Q],
            st.session_state[keys.GRID_SPACING],
        )
    except (ValueError, KeyError):
        return None
    lo, hi = float(axis[0]), float(axis[-1])
    return (lo, hi, lo, hi)


def _overlay(key: str, plane: Plane, latent_dim: int) -> list[list[float]]:
    """Points stored under ``key`` (full z each), projected on the map's plane."""
    points = [p for p in st.session_state.get(key) or [] if len(p) == latent_dim]
    return plane.coords(np.asarray(points)).tolist() if points else []


def _ellipses(model: LoadedModel, plane: Plane) -> list:
    """2-sigma posterior outlines: the user's own digit (red) and the
    inspected test digit (blue), where there are such."""
    out = []
    digit = st.session_state.get(keys.OWN_DIGIT)
    if digit is not None:
        mean, log_var = model.vae.encode(digit[None])
        outline = plane.ellipse(mean[0], log_var[0], k=2.0)
        out.append((outline.tolist(), OWN_DIGIT_COLOUR))
    inspected = inspected_ellipse(model, plane)
    if inspected:
        out.append(inspected)
    return out


@st.fragment
def explorer_section(model: LoadedModel) -> None:
    """Map, live pad, sliders and the decoded digit: reruns on its own."""
    latent_dim = model.record.model.latent_dim
    message = st.session_state.pop(keys.MESSAGE, None)
    if message:
        st.warning(message)
    if latent_dim > 2:
        _dims_picker(latent_dim)
    plane = map_plane(model)
    left, right = st.columns([3, 1], gap="medium")
    with left:
        latent_explorer(
            model,
            st.session_state[keys.Z],
            plane,
            (-MAP_LIMIT, MAP_LIMIT),
            _grid_rect() if plane.key != PCA else None,
            on_commit=lambda: _on_commit(model, plane),
            path=_overlay(keys.OVERLAY_PATH, plane, latent_dim),
            samples=_overlay(keys.OVERLAY_SAMPLES, plane, latent_dim),
            ellipses=_ellipses(model, plane),
        )
        inspect_panel(model, model_token(model))
    with right:
        z = np.asarray(st.session_state[keys.Z], dtype=np.float32)
        pixels = model.vae.decode(z)[0]
        digit_picture(pixels, z, DIGIT_CAPTION, IMAGE_SIDE * DIGIT_SCALE)
        st.markdown(" ".join(f"`z{i + 1} = {v:+.2f}`" for i, v in enumerate(z)))
        _sliders(latent_dim)
        st.download_button(
            "Download digit (PNG)",
            # Encoded only when clicked, not on every move of z.
            lambda: png_bytes(digit_image(pixels, DIGIT_SCALE)),
            file_name="digit.png",
            mime="image/png",
            key="download_digit",
        )


@st.cache_data(show_spinner=False, max_entries=32)
def _grid_image(
    token: str,
    n: int,
    q: float,
    spacing: str,
    base: tuple[float, ...],
    dims: tuple[int, int],
    _model: LoadedModel,
) -> np.ndarray:
    base_z = np.asarray(base, np.float32)
    return manifold(_model.vae.decode, n, q, spacing, base_z, dims)


@st.cache_data(show_spinner=False, max_entries=8)
def _pca(token: str, _model: LoadedModel) -> Plane:
    return pca_plane(_model.latent_mean)


def map_plane(model: LoadedModel) -> Plane:
    """The plane the map shows: two latent dimensions, or (for more than two
    dimensions, when chosen) the first two principal components of the means."""
    latent_dim = model.record.model.latent_dim
    if latent_dim > 2 and st.session_state.get(keys.MAP_VIEW) == PCA:
        return _pca(model_token(model), model)
    return axes_plane(latent_dim, map_dims(latent_dim))


def map_dims(latent_dim: int) -> tuple[int, int]:
    """The two latent dimensions shown on the map and varied by the grid."""
    x, y = st.session_state.get(keys.MAP_DIMS, (0, 1))
    if not (0 <= x < latent_dim and 0 <= y < latent_dim and x != y):
        x, y = 0, 1
    return x, y


def _dim_name(i: int) -> str:
    return f"z{i + 1}"


_VIEW_NAMES = {AXES: "two latent dimensions", PCA: "PCA of the means"}


def _dims_picker(latent_dim: int) -> None:
    """For more than two latent dimensions: the map's view, and the two
    dimensions it shows (and the grid varies)."""
    state = st.session_state
    if state.get(keys.MAP_VIEW) not in VIEWS:
        state[keys.MAP_VIEW] = AXES
    x, y = map_dims(latent_dim)
    options = list(range(latent_dim))
    c0, c1, c2 = st.columns([3, 1, 1])
    c0.radio(
        "Map shows",
        VIEWS,
        format_func=_VIEW_NAMES.get,
        key=keys.MAP_VIEW,
        horizontal=True,
        help="PCA: the plane of the two directions in which the encoded test set "
        "varies most. Moving on the map changes z only within the shown plane.",
    )
    new_x = c1.selectbox(
        "x dimension", options, index=x, format_func=_dim_name, key="map_x"
    )
    new_y = c2.selectbox(
        "y dimension", options, index=y, format_func=_dim_name, key="map_y"
    )
    if new_x == new_y:
        st.warning("Choose two different dimensions for the map and grid.")
    elif (new_x, new_y) != (x, y):
        st.session_state[keys.MAP_DIMS] = (new_x, new_y)
        st.rerun(scope="app")


def _on_cell(model: LoadedModel, axis: np.ndarray) -> None:
    cell = st.session_state["grid"].cell
    n = axis.shape[0]
    if not (
        isinstance(cell, list) and len(cell) == 2 and all(0 <= c < n for c in cell)
    ):
        return
    row, col = cell
    latent_dim = model.record.model.latent_dim
    x, y = map_dims(latent_dim)
    z = list(st.session_state[keys.Z])
    z[x], z[y] = float(axis[col]), float(axis[n - 1 - row])
    set_z(z, latent_dim)
    st.session_state[keys.RERUN_APP] = True


@st.fragment
def grid_section(model: LoadedModel) -> None:
    """The manifold grid and its controls: reruns on its own."""
    if st.session_state.pop(keys.RERUN_APP, False):
        st.rerun(scope="app")
    st.subheader("Manifold grid")
    c1, c2, c3, c4 = st.columns([2, 2, 2, 2])
    c1.slider("Grid size n", 2, GRID_N_MAX, key=keys.GRID_N)
    c2.number_input(
        "Quantile q",
        min_value=0.001,
        max_value=0.499,
        step=0.01,
        format="%.3f",
        key=keys.GRID_Q,
    )
    c3.radio("Spacing", SPACINGS, key=keys.GRID_SPACING, horizontal=True)
    c4.checkbox(
        "Show extent on map",
        key=keys.GRID_SHOW_EXTENT,
        on_change=lambda: st.session_state.__setitem__(keys.RERUN_APP, True),
    )
    n, q = st.session_state[keys.GRID_N], st.session_state[keys.GRID_Q]
    spacing = st.session_state[keys.GRID_SPACING]
    try:
        check_grid(n, q, spacing)
    except ValueError as error:
        st.error(str(error))
        return
    base = tuple(float(v) for v in st.session_state[keys.Z])
    dims = map_dims(model.record.model.latent_dim)
    picture = _grid_image(str(model.record.path), n, q, spacing, base, dims, model)
    axis = grid_axis(n, q, spacing)
    st.caption(
        f"{n}x{n} digits decoded at z{dims[0] + 1}, z{dims[1] + 1} in "
        f"[{axis[0]:.2f}, {axis[-1]:.2f}], other dimensions at the current z "
        f"({spacing} spacing). Click a cell to move z there."
    )
    grid_picture(picture, n, on_cell=lambda: _on_cell(model, axis))
    st.download_button(
        "Download grid (PNG)",
        lambda: png_bytes(picture),
        file_name="manifold.png",
        mime="image/png",
        key="download_grid",
    )


def _init_grid_state() -> None:
    """Defaults, and a reset with a message if state was set to bad values."""
    state = st.session_state
    state.setdefault(keys.GRID_N, GRID_N_DEFAULT)
    state.setdefault(keys.GRID_Q, GRID_Q_DEFAULT)
    state.setdefault(keys.GRID_SPACING, SPACINGS[0])
    state.setdefault(keys.GRID_SHOW_EXTENT, False)
    try:
        check_grid(state[keys.GRID_N], state[keys.GRID_Q], state[keys.GRID_SPACING])
    except ValueError as error:
        st.error(f"{error}; the grid settings were reset.")
        state[keys.GRID_N], state[keys.GRID_Q] = GRID_N_DEFAULT, GRID_Q_DEFAULT
        state[keys.GRID_SPACING] = SPACINGS[0]


def main() -> None:
    """Draw the whole page."""
    # An emoji icon: a Material one would make the browser fetch its picture
    # from fonts.gstatic.com, which an offline or private server cannot reach.
    st.set_page_config(page_title="VAE latent explorer", page_icon="🔢", layout="wide")
    model = active_model()
    if model is None:
        st.error(
            "No usable model: the shipped pretrained models are missing or damaged."
        )
        st.stop()
    record = model.record
    st.title("VAE latent explorer")
    st.caption(
        f"{record.name}: {record.model.describe()}, test negative ELBO "
        f"{record.test_neg_elbo:.1f} nats. Move over the map to decode live; click to "
        "select z."
    )
    _init_z(model)
    _init_grid_state()
    explorer_section(model)
    grid_section(model)
    # The sidebar last: the map, digit and grid reach the browser first.
    sidebar(model)
    tools_section(model)
