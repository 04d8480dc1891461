"""The explorer page: its header, its starting state and its views in order."""

from __future__ import annotations

import streamlit as st

from vaeapp.core.latent import parse_z_text
from vaeapp.core.text import plain
from vaeapp.store.records import LoadedModel
from vaeapp.ui import state
from vaeapp.ui.session_model import active_model
from vaeapp.ui.sidebar.layout import sidebar
from vaeapp.ui.tools.section import tools_section
from vaeapp.ui.views.compare import compare_section
from vaeapp.ui.views.explorer import explorer_view
from vaeapp.ui.views.grid import grid_view
from vaeapp.web import files

URL_Z = "z"  # the query parameter that starts the page at a latent point
_CSS = files.PAGE_CSS


@st.cache_resource(show_spinner=False)
def _page_style() -> str:
    """page.css as a style element (st.html adds a lone style to the page
    without taking room)."""
    return f"<style>{_CSS.read_text(encoding='utf-8')}</style>"


def start_z(model: LoadedModel) -> None:
    """Start at the URL's ``?z=`` (on a session's first page) or the origin;
    re-check a z set from outside (e.g. through the session's state)."""
    latent_dim = model.record.model.latent_dim
    if state.has_z(latent_dim):
        return
    current = state.stored_z()
    if current is not None:
        state.init_z(current, latent_dim)
        return
    text = st.query_params.get(URL_Z)
    if text is None or state.take_url_read():
        state.init_z([0.0] * latent_dim, latent_dim)
        return
    z, problem = parse_z_text(text, latent_dim, model.z_limit)
    if problem:
        state.say(f"URL parameter z: {problem}")
    state.init_z(z, latent_dim)


def main() -> None:
    """Draw the whole page."""
    # An emoji icon: a Material one would make the browser fetch its picture
    # from fonts.gstatic.com, which an offline or private server cannot reach.
    st.set_page_config(page_title="VAE latent explorer", page_icon="🔢", layout="wide")
    state.begin_run()
    st.html(_page_style())
    model = active_model()
    if model is None:
        st.error(
            "No usable model: the shipped pretrained models are missing or damaged."
        )
        st.stop()
    state.mark_drawn()
    state.set_z_limit(model.z_limit)
    record = model.record
    st.title("VAE latent explorer")
    st.caption(
        f"{plain(record.name)}: {record.model.describe()}, test negative ELBO "
        f"{record.test_neg_elbo:.1f} nats. Move over the map to decode live; click to "
        "select z."
    )
    start_z(model)
    problem = state.init_grid()
    if problem:
        st.error(plain(problem))
    explorer_view(model)
    # Closed, the compare view is one line; it builds nothing until opened.
    compare_section(model)
    grid_view(model)
    # The sidebar last: the map, digit and grid reach the browser first.
    sidebar(model)
    tools_section(model)
