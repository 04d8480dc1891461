"""The tool tab bar below the map, made from the registry
(:data:`vaeapp.ui.tools.registry.TOOLS`)."""

from __future__ import annotations

import streamlit as st

from vaeapp.store.records import LoadedModel
from vaeapp.ui import state
from vaeapp.ui.state import K, Views
from vaeapp.ui.tools.registry import TOOLS


@state.fragment(Views.TOOLS)
def tools_section(model: LoadedModel) -> None:
    """The tools, in tabs; a fragment so their widgets rerun only this part."""
    st.subheader("Tools")
    # Only the open tab runs: the others (Plotly charts, the model zip) would
    # cost every first page and every rerun of this part for nothing.
    tabs = st.tabs([tool.label for tool in TOOLS], key=K.TOOLS_TAB, on_change="rerun")
    for tab, tool in zip(tabs, TOOLS, strict=True):
        if tab.open:
            with tab:
                tool.draw(model)
