"""Plotly's JavaScript, sent to each browser session once and first.

Mounted before the page's own imports and model loading, the bundle's message
(1.55 MB) reaches the browser while the server still computes the rest of the
first page, so that the browser's work on it (loading Streamlit's component
code, then evaluating Plotly) overlaps the server's. This module imports nothing
heavy for the same reason.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import streamlit as st

from vaeapp.ui import keys

# plotly.js's core with the scattergl trace only, built by vendor/build_plotly.sh
# (see vendor/README.md): the browser evaluates it in about a third of the time
# the official partial bundles take.
PLOTLY_BUNDLE = Path(__file__).with_name("vendor") / "plotly-scattergl-3.7.0.min.js"

# Runs the bundle the first time it arrives and tells the explorer (whose script
# may have loaded first) with an event; asks for it again if the page lost it.
_LOADER_JS = """
export default function ({ data, setTriggerValue }) {
  const src = data[0]; // a one-item list: see plotly_loader
  if (window.Plotly) return;
  if (!src) {
    setTriggerValue("missing", true);
    return;
  }
  const script = document.createElement("script");
  script.textContent = src;
  document.head.appendChild(script);
  window.dispatchEvent(new Event("vaeapp-plotly"));
}
"""


KEY = "plotly_loader"
# The element draws nothing; hidden, it takes no gap above the page's title.
_CSS = f".st-key-{KEY} {{ display: none; }}"


@st.cache_resource(show_spinner=False)
def _component() -> Callable[..., Any]:
    return st.components.v2.component(
        "vaeapp.plotly_loader", js=_LOADER_JS, css=_CSS, isolate_styles=False
    )


@st.cache_resource(show_spinner=False)
def _plotly_js() -> str:
    return PLOTLY_BUNDLE.read_text(encoding="utf-8")


def _on_missing() -> None:
    st.session_state[keys.PLOTLY_SENT] = False


def plotly_loader() -> None:
    """Send Plotly's bundle to this session's browser once.

    Mount it first on every full run (the element stays in place; after the
    first run it carries nothing). The data is a one-item list: Streamlit sends
    a list as plain JSON, while a bare string would go through its dataframe
    detection, which imports pandas.
    """
    send = not st.session_state.get(keys.PLOTLY_SENT)
    st.session_state[keys.PLOTLY_SENT] = True
    _component()(
        data=[_plotly_js() if send else ""],
        key=KEY,
        on_missing_change=_on_missing,
    )
