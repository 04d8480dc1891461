"""The latent map with live client-side decoding, as a Streamlit v2 component.

The map is WebGL (``vaeapp/web/scatter_map.js`` on regl-scatterplot) at every
size: pan and zoom, lasso and box selection, colour by class, factor,
per-image figure or density, search, and the real held-out image under the
pointer. Python sends the browser the model's decoder and map points once per
session: as the URLs of two binary files named by their content, which the
browser fetches and keeps in its cache across visits
(:mod:`vaeapp.ui.static_files`), or, without static serving, as base64 in the
component's data. Later reruns send only the current z, so a slider move never
resends the points. The component's own script is a static file too, imported
by a stub of a few hundred bytes, so that a rerun does not carry its
JavaScript. regl-scatterplot itself arrives through :mod:`vaeapp.ui.map_loader`,
which may run after this component's first render: the map is then drawn as
soon as the library is there.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import streamlit as st

from vaeapp.core.text import plain
from vaeapp.explore import selection
from vaeapp.explore.projection import (
    NEIGHBOURS,
    PLACE_NEIGHBOURS,
    Plane,
    StoredPlane,
)
from vaeapp.store.records import LoadedModel
from vaeapp.ui import events, state, static_files
from vaeapp.ui.components import latent_map_script as explorer_script
from vaeapp.web import image_chunks
from vaeapp.web.assets import (
    Anchors,
    ModelFiles,
    model_token,
    pack_model,
    pack_model_files,
)
from vaeapp.web.view_settings import MAP_HEIGHT

# A plane the map shows: linear (two dimensions, PCA) or stored (UMAP).
MapPlane = Plane | StoredPlane
_SAME_Z = 1e-12  # squared distance under which z is a stored test image's

# The module's JavaScript (decoder.js, map_common.js, scatter_map.js,
# latent_map.js), for the tests.
_JS = explorer_script.MODULE_JS
_CSS = explorer_script.CSS  # latent_map.css, shared with the exported file


@st.cache_resource(show_spinner=False)
def _component(js: str) -> Callable[..., Any]:
    return st.components.v2.component(
        "vaeapp.latent_explorer", js=js, css=_CSS, isolate_styles=False
    )


def _anchors(plane: MapPlane) -> Anchors | None:
    """A stored plane's anchors for the browser's rules (plane_rules.js):
    their rows (None: every point) and latent means; None for a linear plane."""
    if not isinstance(plane, StoredPlane):
        return None
    rows, _, means = plane.anchors()
    every = rows.size == plane.points.shape[0]
    return (None if every else rows, means)


@st.cache_data(show_spinner=False, max_entries=8)
def _packed(token: str, _model: LoadedModel, _plane: MapPlane) -> dict:
    points = _plane.coords(_model.latent_mean).astype(np.float32)
    return pack_model(_model, points, _anchors(_plane))


@st.cache_resource(show_spinner=False, max_entries=8)
def _files(token: str, _model: LoadedModel, _plane: MapPlane) -> ModelFiles:
    points = _plane.coords(_model.latent_mean).astype(np.float32)
    return pack_model_files(_model, points, _anchors(_plane))


def _assets(token: str, model: LoadedModel, plane: MapPlane) -> dict[str, Any]:
    """The model's assets for the browser: the URLs of its two files (written
    if need be) with the JSON that reads them, or everything inline."""
    files = _files(token, model, plane)
    decoder = static_files.publish("decoder", files.decoder_blob, "bin")
    points = static_files.publish("points", files.points_blob, "bin")
    if decoder is None or points is None:
        return _packed(token, model, plane)
    return {**files.meta, "files": {"decoder": decoder, "points": points}}


def _on_chunk(model: LoadedModel, key: str) -> None:
    """The WebGL map asks for a chunk of held-out images (hover): publish it
    as a static file named by its content and send its URL next render."""
    if not state.take_event():
        return
    value = getattr(state.widget(key), "chunk", None)
    try:
        data = image_chunks.image_chunk(model, value)
    except ValueError as error:
        state.say(f"Ignored a request for images from the map: {error}")
        return
    url = static_files.publish(image_chunks.CHUNK_STEM, data, image_chunks.CHUNK_SUFFIX)
    if url is None:
        state.say("The held-out images cannot be sent without static file serving.")
        return
    state.image_chunk_urls().setdefault(model_token(model), {})[int(value)] = url


def _on_select(model: LoadedModel, plane: MapPlane, key: str) -> None:
    """A lasso or box on the WebGL map: the points inside its polygon, among
    the classes the legend shows, become the selection (the browser's list
    of ids is never trusted: the polygon is tested here)."""
    if not state.take_event():
        return
    value = getattr(state.widget(key), "select", None)
    classes = max(1, len(model.class_names or ()))
    try:
        polygon, shown = events.map_selection(value, classes)
    except ValueError as error:
        state.say(f"Ignored a selection from the map: {error}")
        return
    inside = selection.points_in_polygon(plane.coords(model.latent_mean), polygon)
    inside &= np.isin(model.labels, shown)
    state.set_selection(np.flatnonzero(inside))


def _on_search(model: LoadedModel, key: str) -> None:
    """A search on the WebGL map: fly to the first image found, move z to
    it and inspect it."""
    if not state.take_event():
        return
    value = getattr(state.widget(key), "search", None)
    try:
        found = selection.search(model, value)
    except ValueError as error:
        state.say(f"Ignored a search from the map: {error}")
        return
    if not found.size:
        state.say(f"Search: nothing matches {plain(value, 60)}.")
        return
    index = int(found[0])
    if found.size > 1:
        state.say(
            f"Search: {found.size} images match; the map shows the first, #{index}."
        )
    state.focus_map(index)
    state.set_inspected(index)
    state.change_z(model.latent_mean[index].tolist(), model.record.model.latent_dim)


def _plane_data(plane: MapPlane, z: list[float]) -> dict[str, Any]:
    """How the browser moves z on the map: ``z + dx * u + dy * v``, from the
    plane's centre (to follow a z from the sliders). A stored plane (UMAP)
    has no such map: the browser is told so (``nonlinear``) and applies the
    plane's rules (plane_rules.js, as projection.plane_click_to_z and
    StoredPlane.coords) with the same pick radius and numbers of neighbours."""
    point = np.asarray(z, np.float64)
    if isinstance(plane, StoredPlane):
        gaps = np.square(plane.means - point).sum(axis=1)
        # z is a test image's own z (a click on it): the cross on that point,
        # an anchor or not.
        own = int(np.argmin(gaps))
        near = gaps[own] < _SAME_Z
        marker = plane.points[own] if near else plane.coords(point)
        zero = [0.0] * len(z)
        return {
            "u": zero,
            "v": zero,
            "centre": zero,
            "marker": np.asarray(marker, np.float64).tolist(),
            "nonlinear": True,
            "pick_radius": plane.pick_radius(),
            "neighbours": NEIGHBOURS,
            "place_neighbours": PLACE_NEIGHBOURS,
        }
    marker = plane.coords(point).tolist()
    return {
        "u": plane.u.tolist(),
        "v": plane.v.tolist(),
        "centre": plane.centre.tolist(),
        "marker": marker,
        "nonlinear": False,
    }


def _map_data(model: LoadedModel) -> dict[str, Any]:
    """The image chunks sent so far (hover) and the search's focus."""
    focus = state.map_focus()
    chunks = state.image_chunk_urls().get(model_token(model), {})
    return {
        "chunk_size": image_chunks.CHUNK_IMAGES,
        "chunk_count": image_chunks.chunk_count(model),
        "image_count": image_chunks.image_count(model),
        "images_note": image_chunks.images_note(model),
        "chunks": {str(k): url for k, url in chunks.items()},
        "focus": None if focus is None else {"i": focus[0], "serial": focus[1]},
    }


def _on_missing() -> None:
    """The browser lacks the model's cached assets (a reload): send them again."""
    if not state.take_event():
        return
    state.forget_sent_tokens()


def latent_explorer(
    model: LoadedModel,
    z: list[float],
    plane: MapPlane,
    axis_range: tuple[float, float],
    grid_rect: tuple[float, float, float, float] | None,
    on_commit: Callable[[], None],
    path: list[list[float]] | None = None,
    samples: list[list[float]] | None = None,
    ellipses: list[tuple[list[list[float]], str]] | None = None,
    colour_by: int = -1,
    key: str = "explorer",
    link: str | None = None,
    mark: int | None = None,
    cross: bool = True,
) -> Any:
    """Mount the map; ``on_commit`` runs when a click or release picks a z,
    which is then the ``commit`` of the widget value under ``key`` (read it
    with ``state.widget``) as map coordinates
    ``[x, y]`` on ``plane``, or as ``[x, y, i]`` when the release was on test
    point ``i``.

    ``path`` and ``samples`` are lists of ``[x, y]`` points in the shown
    dimensions, drawn as an interpolation path and prior samples; ``ellipses``
    are ``(outline, css colour)`` pairs, e.g. posterior outlines.

    Maps given the same ``link`` (the compare view's two) follow each other's
    pointer in the browser: the test image hovered in one is ringed in all of
    them. ``mark`` names the test image the map marks (the cross at z, which
    is then that image's mean), for the page's record; ``cross=False`` draws
    no cross.
    """
    token = f"{model_token(model)}-{plane.key}"
    sent = state.sent_tokens()
    data: dict[str, Any] = {
        "token": token,
        "z": [float(v) for v in z],
        **_plane_data(plane, z),
        "range": list(axis_range),
        "grid_rect": list(grid_rect) if grid_rect else None,
        "height": MAP_HEIGHT,
        "axis_titles": list(plane.titles),
        "path": path or [],
        "samples": samples or [],
        "ellipses": [{"points": p, "color": c} for p, c in ellipses or []],
        # -1: points coloured by class; f: by the data set's factor f.
        "colour_by": int(colour_by),
        "link": link,
        "mark": None if mark is None else int(mark),
        "cross": bool(cross),
    }
    data.update(_map_data(model))
    if token not in sent:
        data["assets"] = _assets(token, model, plane)
        sent.add(token)
    return _component(explorer_script.component_js())(
        # Streamlit scans the first level of a dict ``data`` for dataframes,
        # which imports pandas: the map came 0.6 s later on the first page. A
        # one-item list goes to the browser as plain JSON, unscanned.
        data=[data],
        key=key,
        on_commit_change=on_commit,
        on_missing_change=_on_missing,
        on_select_change=lambda: _on_select(model, plane, key),
        on_search_change=lambda: _on_search(model, key),
        on_chunk_change=lambda: _on_chunk(model, key),
        # The content's height: the map's box is square, so on a narrow page it
        # is less tall than MAP_HEIGHT, with the live preview under it.
        height="content",
    )
