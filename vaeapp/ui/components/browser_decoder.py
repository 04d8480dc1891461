"""What the components that decode in the browser share: their script as a
cached static module, and the model's decoder for ``vaeapp/web/decoder_file.js``.

The decoder's file is the map's (:mod:`vaeapp.ui.components.latent_map`): the
same bytes under the same URL, so the browser fetches it once for all of them.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import streamlit as st

from vaeapp.store.records import LoadedModel
from vaeapp.ui import state, static_files
from vaeapp.web import files
from vaeapp.web.assets import pack_decoder, pack_decoder_file

# decoder.js and decoder_file.js: the functions the components' scripts use.
DECODER_MODULE_JS = "\n".join(
    files.read(path) for path in (files.DECODER_JS, files.DECODER_FILE_JS)
)
# A component's script when its module is a static file: imports it (once; the
# browser keeps the module) and hands each render over to it.
_STUB_JS = """const MODULE = new URL(URL_JSON, document.baseURI).href;
export default function (component) {
  import(MODULE).then((module) => module.default(component));
}
"""


@st.cache_resource(show_spinner=False)
def _registered(name: str, js: str, css: str) -> Callable[..., Any]:
    return st.components.v2.component(name, js=js, css=css, isolate_styles=False)


def mount(name: str, stem: str, module_js: str, css: str) -> Callable[..., Any]:
    """The v2 component ``name`` running ``module_js`` (served as a static
    file named after ``stem``, see :func:`component_js`) with ``css``."""
    return _registered(name, component_js(stem, module_js), css)


def resend_on_missing() -> None:
    """A component's missing event: the browser lacks the decoder (a reload,
    a failed download), so the next render sends it again."""
    if state.take_event():
        state.forget_sent_tokens()


def component_js(stem: str, module_js: str) -> str:
    """A stub of a few hundred bytes importing ``module_js`` as a static file
    named after ``stem``, or all of ``module_js`` without static serving."""
    url = static_files.publish(stem, module_js.encode("utf-8"), "js")
    return _STUB_JS.replace("URL_JSON", json.dumps(url)) if url else module_js


@st.cache_resource(show_spinner=False, max_entries=8)
def _decoder_file(token: str, _model: LoadedModel) -> tuple[list[dict], bytes]:
    return pack_decoder_file(_model.vae)


@st.cache_data(show_spinner=False, max_entries=8)
def _inline_layers(token: str, _model: LoadedModel) -> list[dict]:
    return pack_decoder(_model.vae)


def decoder_assets(token: str, model: LoadedModel) -> dict[str, Any]:
    """The decoder for decoder_file.js's ``loadDecoder``: its file's URL and
    the layers that read it, or (without static serving) the layers inline,
    with the model's ``image_shape``."""
    shape = list(model.record.model.image_shape)
    layers, blob = _decoder_file(token, model)
    url = static_files.publish("decoder", blob, "bin")
    if url is None:
        return {"layers": _inline_layers(token, model), "image_shape": shape}
    return {"layers": layers, "image_shape": shape, "file": url}


def add_decoder_once(
    data: dict[str, Any], component: str, token: str, model: LoadedModel
) -> None:
    """Put the decoder's assets in ``data`` the first time ``component`` draws
    the model ``token`` in this session; later renders carry none (the
    browser keeps them, and asks again through its missing event)."""
    sent = state.sent_tokens()
    if f"{component}-{token}" not in sent:
        data["assets"] = decoder_assets(token, model)
        sent.add(f"{component}-{token}")
