"""The map's library (regl-scatterplot), loaded by each browser session once
and first.

Mounted before the page's own imports and model loading. With static serving
(see :mod:`vaeapp.ui.static_files`) the loader's message carries only the URL
of the bundle, a file named by its content that the browser fetches
gzip-compressed once and then keeps in its cache across visits; without it, the
bundle itself (225 kB of text) goes through the websocket. Either
way it reaches the browser while the server still computes the rest of the
first page, so the browser's work on it overlaps the server's. This module
imports nothing heavy for the same reason.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import streamlit as st

from vaeapp.ui import state, static_files
from vaeapp.ui.components import latent_map_script as explorer_script
from vaeapp.ui.state import K
from vaeapp.web import files

SCATTER_BUNDLE = files.SCATTERPLOT_JS  # vaeapp/web/vendor/README.md: how it is built

# Runs the bundle the first time it arrives, from its URL ({"url": ...}) or its
# text ({"src": ...}), and tells the explorer (whose script may have loaded
# first) with an event. Asks for it again ("missing") if the page lost it: with
# "inline" when the URL failed to load, so that the text comes next time.
# "preload" lists module scripts to import now (the explorer's), so that they
# download alongside the library rather than after the page's next messages.
_LOADER_JS = """
export default function ({ data, setTriggerValue }) {
  const sent = data[0]; // a one-item list: see map_loader
  for (const url of (sent && sent.preload) || []) {
    import(new URL(url, document.baseURI).href).catch(() => {});
  }
  if (window.createScatterplot || window.__vaeappMapLibLoading) return;
  const ready = () => window.dispatchEvent(new Event("vaeapp-scatterplot"));
  const script = document.createElement("script");
  if (sent && sent.url) {
    window.__vaeappMapLibLoading = true;
    script.src = new URL(sent.url, document.baseURI).href;
    script.onload = () => {
      window.__vaeappMapLibLoading = false;
      ready();
    };
    script.onerror = () => {
      window.__vaeappMapLibLoading = false;
      script.remove();
      setTriggerValue("missing", "inline");
    };
    document.head.appendChild(script);
  } else if (sent && sent.src) {
    script.textContent = sent.src;
    document.head.appendChild(script);
    ready();
  } else {
    setTriggerValue("missing", true);
  }
}
"""


KEY = K.MAP_LOADER
# The element draws nothing; hidden, it takes no gap above the page's title.
_CSS = f".st-key-{KEY} {{ display: none; }}"


@st.cache_resource(show_spinner=False)
def _component() -> Callable[..., Any]:
    return st.components.v2.component(
        "vaeapp.map_loader", js=_LOADER_JS, css=_CSS, isolate_styles=False
    )


@st.cache_resource(show_spinner=False)
def _library_js() -> bytes:
    return SCATTER_BUNDLE.read_bytes()


def _on_missing() -> None:
    if not state.take_event():
        return
    state.forget_map_library_sent()


def _wants_inline() -> bool:
    """Whether this run's "missing" trigger says the bundle's URL failed."""
    events = state.widget(K.MAP_LOADER)
    return getattr(events, "missing", None) == "inline"


def map_loader() -> None:
    """Send regl-scatterplot's bundle (its URL, or its text) to this
    session's browser once.

    Mount it first on every full run (the element stays in place; after the
    first run it carries nothing). The data is a one-item list: Streamlit sends
    a list as plain JSON, while a bare string would go through its dataframe
    detection, which imports pandas.
    """
    send = state.take_map_library_send()
    sent: dict[str, str] = {}
    if send:
        bundle = _library_js()
        inline = _wants_inline()
        url = None if inline else static_files.publish("scatterplot", bundle, "js")
        sent = {"url": url} if url else {"src": bundle.decode("utf-8")}
        explorer = explorer_script.module_url()
        if explorer:
            sent["preload"] = [explorer]
    _component()(data=[sent], key=KEY, on_missing_change=_on_missing)
