"""The z sliders and the selected image, drawn and decoded in the browser (a
Streamlit v2 component; its script is ``vaeapp/web/z_sliders.js``).

A move of a slider redraws the image in the browser in the same frame, from
the decoder in ``vaeapp/web/decoder.js``; the server hears of z only when the
moves settle, as the ``z`` trigger, whose callback the caller gives. Each
render also carries the server's picture of z as a small PNG data URL: shown
until the decoder's file has arrived, and for a model the browser decodes too
slowly (the page says so). The decoder's file is the map's
(:mod:`vaeapp.ui.components.latent_map`): the same bytes under the same URL,
fetched once.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import numpy as np
import streamlit as st

from vaeapp.store.records import LoadedModel
from vaeapp.ui import state, static_files
from vaeapp.ui.components.image_view import digit_src
from vaeapp.web import files
from vaeapp.web.assets import model_token, pack_decoder, pack_decoder_file

NAME = "vaeapp.z_sliders"
STEP = 0.01  # the sliders' step in z
# decoder.js's functions, then the component's: one module.
MODULE_JS = files.read(files.DECODER_JS) + "\n" + files.read(files.Z_SLIDERS_JS)
_CSS = files.read(files.Z_SLIDERS_CSS)
# The component's script when MODULE_JS is a static file: imports it (once; the
# browser keeps the module) and hands each render over to it.
_STUB_JS = """const MODULE = new URL(URL_JSON, document.baseURI).href;
export default function (component) {
  import(MODULE).then((module) => module.default(component));
}
"""


def component_js() -> str:
    """A stub of a few hundred bytes importing MODULE_JS as a static file, or
    all of MODULE_JS without static serving."""
    url = static_files.publish("z_sliders", MODULE_JS.encode("utf-8"), "js")
    return _STUB_JS.replace("URL_JSON", json.dumps(url)) if url else MODULE_JS


@st.cache_resource(show_spinner=False)
def _component(js: str) -> Callable[..., Any]:
    return st.components.v2.component(NAME, js=js, css=_CSS, isolate_styles=False)


@st.cache_resource(show_spinner=False, max_entries=8)
def _decoder_file(token: str, _model: LoadedModel) -> tuple[list[dict], bytes]:
    return pack_decoder_file(_model.vae)


@st.cache_data(show_spinner=False, max_entries=8)
def _inline_layers(token: str, _model: LoadedModel) -> list[dict]:
    return pack_decoder(_model.vae)


def _assets(token: str, model: LoadedModel) -> dict[str, Any]:
    """The decoder for the browser: its file's URL and the layers that read
    it, or (without static serving) the layers inline."""
    shape = list(model.record.model.image_shape)
    layers, blob = _decoder_file(token, model)
    url = static_files.publish("decoder", blob, "bin")
    if url is None:
        return {"layers": _inline_layers(token, model), "image_shape": shape}
    return {"layers": layers, "image_shape": shape, "file": url}


def _on_missing() -> None:
    """The browser lacks the decoder (a reload, a failed download): send it
    again with the next render."""
    if state.take_event():
        state.forget_sent_tokens()


def z_sliders(
    model: LoadedModel,
    z: np.ndarray,
    pixels: np.ndarray,
    caption: str,
    size: int,
    shown: int,
    on_z: Callable[[], None],
    key: str,
) -> Any:
    """Mount the sliders of ``z`` ``(latent_dim,)`` (``shown`` of them, the
    rest in a box that opens) over the image; ``pixels`` is the server's
    decode of z (flat, of the model's image shape), drawn ``size`` px wide
    until the browser decodes. ``on_z`` runs when moves settle; the z they
    reached is then the ``z`` of the widget value under ``key``."""
    token = model_token(model)
    data: dict[str, Any] = {
        "token": token,
        "z": [float(v) for v in np.asarray(z, np.float64)],
        "limit": state.z_limit(),
        "step": STEP,
        "shown": int(shown),
        "src": digit_src(pixels, model.image_shape),
        "size": int(size),
        "caption": caption,
    }
    sent = state.sent_tokens()
    if f"sliders-{token}" not in sent:
        data["assets"] = _assets(token, model)
        sent.add(f"sliders-{token}")
    return _component(component_js())(
        data=[data],
        key=key,
        on_z_change=on_z,
        on_missing_change=_on_missing,
        height="content",
    )
