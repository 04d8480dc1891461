"""The manifold grid with its n, q and spacing controls, decoded and drawn in
the browser, clickable cell by cell (a Streamlit v2 component; its script is
``vaeapp/web/grid_picture.js``).

A change of the settings redraws the grid in the browser with no round trip;
the server hears the new settings once the changes settle (the ``settings``
trigger), and a click on a cell as ``cell`` ``[row, col]``. Each render carries
the server's axes for its settings, so that the browser draws exactly
:func:`vaeapp.explore.manifold.grid_points`. A browser that decodes the model
too slowly (slower than :data:`GRID_BROWSER_MAX_MS`, sent to it) says so
(``slow``); from then on each render carries the server's picture instead.
"""

from __future__ import annotations

import base64
from collections.abc import Callable
from typing import Any

import numpy as np
import streamlit as st

from vaeapp.explore.images import png_bytes
from vaeapp.explore.manifold import GRID_N_MAX, SPACINGS
from vaeapp.store.records import LoadedModel
from vaeapp.ui import state, static_files
from vaeapp.ui.components import browser_decoder
from vaeapp.web import files
from vaeapp.web.assets import b64, model_token
from vaeapp.web.view_settings import Q_MAX, Q_MIN, Q_STEP

NAME = "vaeapp.grid_click"
# The most milliseconds the browser may take to decode and draw the default
# 15x15 grid of a model; a browser that takes longer (its first grid of the
# model, timed there) has the server draw that model's grids. The WebAssembly
# decoder draws every shipped model's grid well within this
# (docs/page-speed.md); plain JavaScript, where a browser lacks WebAssembly
# SIMD, does not draw the 32x32x3 conv models' grids within it.
GRID_BROWSER_MAX_MS = 1000
MODULE_JS = browser_decoder.DECODER_MODULE_JS + "\n" + files.read(files.GRID_PICTURE_JS)
_CSS = files.read(files.GRID_PICTURE_CSS)


@st.cache_resource(show_spinner=False, max_entries=16)
def _columns_blob(token: str, dims: tuple[int, int], _model: LoadedModel) -> bytes:
    """The encoded test set's finite values on ``dims``, each sorted: two
    float32 runs of the same length (the data spacing's quantiles)."""
    runs = []
    for d in dims:
        values = np.asarray(_model.latent_mean[:, d], np.float64)
        runs.append(np.sort(values[np.isfinite(values)]).astype("<f4"))
    count = min(run.size for run in runs)
    return b"".join(run[:count].tobytes() for run in runs)


def _columns(token: str, dims: tuple[int, int], model: LoadedModel) -> dict[str, Any]:
    """The data spacing's values for the browser: a static file's URL, or
    base64 without static serving, with the length of each run."""
    blob = _columns_blob(token, dims, model)
    count = len(blob) // 8
    url = static_files.publish("grid_columns", blob, "bin")
    if url is None:
        return {"inline": b64(np.frombuffer(blob, "<f4")), "count": count}
    return {"file": url, "count": count}


def grid_picture(
    model: LoadedModel,
    settings: state.GridSettings,
    axes: tuple[np.ndarray, np.ndarray],
    dims: tuple[int, int],
    base: np.ndarray,
    spacing_names: dict[str, str],
    picture: np.ndarray | None,
    on_settings: Callable[[], None],
    on_cell: Callable[[], None],
    on_slow: Callable[[], None],
    key: str = "grid",
) -> Any:
    """Mount the grid of ``settings`` on ``axes`` (x and y, each ``(n,)``)
    over latent dimensions ``dims``, the others at ``base``
    ``(latent_dim,)``. ``picture`` (uint8, ``(n * h, n * w)`` or ``(n * h,
    n * w, 3)``) is the server's, sent only for a browser that decodes too
    slowly. The callbacks run on the triggers ``settings``, ``cell`` and
    ``slow``, read with ``state.widget(key)``."""
    token = model_token(model)
    xs, ys = axes
    data: dict[str, Any] = {
        "token": token,
        "n": int(settings.n),
        "q": float(settings.q),
        "spacing": settings.spacing,
        "xs": [float(v) for v in xs],
        "ys": [float(v) for v in ys],
        "dims": [int(d) for d in dims],
        "base": [float(v) for v in np.asarray(base, np.float64)],
        "n_max": GRID_N_MAX,
        "q_min": Q_MIN,
        "q_max": Q_MAX,
        "q_step": Q_STEP,
        "spacings": [[s, spacing_names[s]] for s in SPACINGS],
        "slow_ms": GRID_BROWSER_MAX_MS,
        "columns_key": f"{token}-{dims[0]}-{dims[1]}",
    }
    if picture is not None:
        data["src"] = "data:image/png;base64," + base64.b64encode(
            png_bytes(picture)
        ).decode("ascii")
    sent = state.sent_tokens()
    if f"grid-{data['columns_key']}" not in sent:
        data["columns"] = _columns(token, dims, model)
        sent.add(f"grid-{data['columns_key']}")
    browser_decoder.add_decoder_once(data, "grid", token, model)
    return browser_decoder.mount(NAME, "grid_picture", MODULE_JS, _CSS)(
        data=[data],
        key=key,
        on_settings_change=on_settings,
        on_cell_change=on_cell,
        on_slow_change=on_slow,
        on_missing_change=browser_decoder.resend_on_missing,
        height="content",
    )
