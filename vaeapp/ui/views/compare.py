"""The compare view: the active model and a second model of the same data side
by side, in one keyed fragment inside an expander that runs only while open.

Both maps are the page's map component
(:mod:`vaeapp.ui.components.latent_map`), linked in the browser: hovering a
test image in one rings the same test image in the other and decodes it there.
A click on a test point marks it in both maps (the cross at its mean in each
model, with its posterior ellipse) and shows it beside its reconstruction by
each model. Below: both models' figures and their held-out curves overlaid. The
figures come from :mod:`vaeapp.explore.comparison`."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import plotly.graph_objects as go
import streamlit as st

from vaeapp.core.text import plain
from vaeapp.explore.comparison import (
    ROW_NAMES,
    Figures,
    figure_cells,
    held_out,
    image_loss,
    mismatched_test_sets,
    model_figures,
    reconstructions,
    same_data,
)
from vaeapp.explore.projection import StoredPlane
from vaeapp.store.format import ModelFolderError
from vaeapp.store.listing import Listing
from vaeapp.store.records import LoadedModel
from vaeapp.ui import state
from vaeapp.ui.components.image_view import digit_picture, scale_for
from vaeapp.ui.components.latent_map import latent_explorer
from vaeapp.ui.events import map_commit
from vaeapp.ui.session_model import listings, load_cached
from vaeapp.ui.state import K, Views
from vaeapp.ui.views.explorer import (
    MapPlane,
    compared_plane,
    map_axis_range,
    map_plane,
)
from vaeapp.ui.views.inspect import ELLIPSE_COLOUR
from vaeapp.web.assets import model_token

LINK = "compare"  # the two maps' link name (scatter_map.js rings across it)
IMAGE_PX = 112  # the marked image and its reconstructions, each
TITLE = "Compare with another model"


@st.cache_data(show_spinner=False, max_entries=16)
def _figures(
    token: str, plane_key: str, _model: LoadedModel, _plane: MapPlane
) -> Figures:
    """The model's figures, its 5-NN accuracy on ``_plane`` (cached per model
    and plane: the vote over 10,000 points takes about 0.1 s)."""
    return model_figures(_model, _plane.coords(_model.latent_mean))


@st.cache_data(show_spinner=False, max_entries=16)
def _mismatch(token_a: str, token_b: str, _a: LoadedModel, _b: LoadedModel) -> str:
    return mismatched_test_sets(_a, _b) or ""


def candidates(model: LoadedModel) -> list[Listing]:
    """The usable listed models of the active model's data set and image
    shape, other than the active one."""
    return [
        item
        for item in listings()
        if item.record is not None
        and item.path != model.record.path
        and same_data(item.record, model.record)
    ]


def compare_picker(model: LoadedModel) -> str | None:
    """The "Compare with…" choice among :func:`candidates`; returns the path
    chosen, or None (none chosen, or none to choose from)."""
    found = candidates(model)
    shape = "×".join(str(n) for n in model.image_shape)
    if not found:
        st.info(
            f"No other model of this data ({plain(model.record.dataset)}, "
            f"{shape}) is listed: train or upload one from the sidebar."
        )
        return None
    paths = [str(item.path) for item in found]
    if state.compare_pick() is not None and state.compare_pick() not in paths:
        state.forget_compare_pick()
    labels = {
        str(item.path): f"{item.name} · {item.record.model.describe()} · "
        f"−ELBO {item.record.test_neg_elbo:.1f}"
        for item in found
    }
    st.selectbox(
        "Compare with…",
        paths,
        index=None,
        format_func=lambda p: labels.get(p, p),
        placeholder=f"a model of the same data ({len(paths)} listed)",
        key=K.COMPARE_PICK,
        help="Models trained on the same data set at the same image shape: "
        "the shipped ones, then those trained or uploaded here.",
    )
    return state.compare_pick()


def _on_commit(key: K, count: int) -> None:
    """A click on either map: a test point ``[x, y, i]`` marks image ``i``
    in both; a click beside the points marks nothing."""
    if not state.take_event():
        return
    value = getattr(state.widget(key), "commit", None)
    try:
        _, index = map_commit(value, count)
    except ValueError as error:
        state.say(f"Ignored a click from a compare map: {error}")
        state.redraw([Views.EXPLORER, Views.COMPARE])
    if index is not None:
        state.set_compare_index(index)


def _map(
    model: LoadedModel, plane: MapPlane, index: int | None, key: K, title: str
) -> None:
    """One model's map, marking test image ``index`` (if any) at its mean
    (with its posterior outline on a linear plane; a stored plane, UMAP, maps
    no Gaussian to an outline)."""
    st.markdown(f"**{title}** {plain(model.record.name)}")
    st.caption(plain(model.record.model.describe()))
    ellipses = []
    stored = isinstance(plane, StoredPlane)
    if index is not None:
        z = model.latent_mean[index]
        if not stored:
            outline = plane.ellipse(z, model.latent_log_var[index], k=2.0)
            ellipses.append((outline.tolist(), ELLIPSE_COLOUR))
    else:
        z = model.latent_mean.mean(axis=0) if stored else plane.centre
    latent_explorer(
        model,
        [float(v) for v in z],
        plane,
        map_axis_range(model, plane),
        None,
        on_commit=lambda: _on_commit(key, model.labels.shape[0]),
        ellipses=ellipses,
        key=key,
        link=LINK,
        mark=index,
        cross=index is not None,
    )


def _marked(a: LoadedModel, b: LoadedModel, index: int) -> None:
    """Test image ``index`` and its reconstruction by each model, with each
    one's reconstruction loss of it."""
    names = a.class_names
    label = f", labelled {names[a.labels[index]]}" if names else ""
    st.markdown(f"**Test image #{index}**{plain(label)}")
    shape = a.image_shape
    size = shape[1] * scale_for(shape, IMAGE_PX)
    recon = reconstructions([a, b], index)
    pictures: list[tuple[np.ndarray, np.ndarray, str]] = []
    if index < a.image_count:
        image = a.point_images([index])[0] / np.float32(255)
        pictures.append((image, a.latent_mean[index], "Test image"))
    else:
        image = None
    for model, pixels in zip((a, b), recon, strict=True):
        loss = "" if image is None else f" ({image_loss(image, pixels):.1f} nats)"
        caption = f"{model.record.name}{loss}"
        pictures.append((pixels, model.latent_mean[index], caption))
    columns = st.columns(len(pictures))
    for k, (column, (pixels, z, caption)) in enumerate(
        zip(columns, pictures, strict=True)
    ):
        with column:
            digit_picture(pixels, shape, z, caption, size, key=f"{K.COMPARE_IMAGE}{k}")
    st.caption(
        "Each model's reconstruction from its own posterior mean, with its "
        "reconstruction loss of this image (Bernoulli, in nats)."
    )


def _curves(a: LoadedModel, b: LoadedModel) -> None:
    """Both models' held-out negative ELBO per epoch, in one chart."""
    figure = go.Figure()
    for model in (a, b):
        curve = held_out(model.record)
        if curve is not None:
            figure.add_scatter(
                x=curve.epochs,
                y=curve.values,
                name=f"{model.record.name}: {curve.label}",
            )
    if not figure.data:
        st.info("Neither model has a per-epoch held-out curve.")
        return
    figure.update_layout(
        height=300,
        margin=dict(l=10, r=10, t=10, b=10),
        xaxis_title="epoch",
        yaxis_title="−ELBO (nats per image)",
        legend=dict(orientation="h", y=1.02, yanchor="bottom", x=0),
    )
    st.plotly_chart(figure, key=K.COMPARE_CURVES)


def _table(figures: tuple[Figures, Figures]) -> None:
    """Both models' figures, one column each (A, the active one, first)."""
    table = {"": list(ROW_NAMES)}
    for tag, one in zip(("A", "B"), figures, strict=True):
        table[f"{tag}: {one.name}"] = figure_cells(one)
    st.dataframe(table, hide_index=True, key=K.COMPARE_TABLE)
    st.caption(
        "5-NN accuracy: the share of test images whose 5 nearest other test "
        "images on the map (as shown) vote, by majority, for their own label. Training "
        "time: the epochs' summed seconds."
    )


def _compare(model: LoadedModel) -> None:
    """The view's content, once a second model is chosen."""
    path = compare_picker(model)
    if path is None:
        return
    try:
        other = load_cached(Path(path))
    except ModelFolderError as error:
        st.error(f"Model {plain(Path(path).name)} is unusable: {plain(error)}")
        return
    problem = _mismatch(model_token(model), model_token(other), model, other)
    if problem:
        st.warning(f"Not comparable image by image: {plain(problem)}.")
        return
    count = model.labels.shape[0]
    index = state.compare_index(count)
    # The active model's map as the explorer shows it (PCA, dimensions or the
    # stored UMAP plane); the other's on the same kind of plane where it can.
    shown = map_plane(model)
    stored = shown.key if isinstance(shown, StoredPlane) else None
    planes = (shown, compared_plane(other, stored))
    st.caption(
        "Hover a test image in either map to ring it in both (each map's "
        "preview decodes it); click it to mark it and see both reconstructions."
    )
    left, right = st.columns(2, gap="medium")
    with left:
        _map(model, planes[0], index, K.COMPARE_MAP_A, "A (active)")
    with right:
        _map(other, planes[1], index, K.COMPARE_MAP_B, "B")
    if index is not None:
        _marked(model, other, index)
    figures = tuple(
        _figures(model_token(m), p.key, m, p)
        for m, p in zip((model, other), planes, strict=True)
    )
    _table(figures)
    _curves(model, other)


@state.fragment(Views.COMPARE)
def compare_section(model: LoadedModel) -> None:
    """The compare view's expander; its content is built only while open."""
    expander = st.expander(TITLE, key=K.COMPARE_OPEN, on_change="rerun")
    if not expander.open:
        return
    with expander:
        _compare(model)
