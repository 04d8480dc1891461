"""The sidebar's model panel: the active model's facts, a link to this view,
its explorer as one HTML file, switching models, unusable folders and
uploading a model zip."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlencode, urlsplit

import numpy as np
import streamlit as st

from vaeapp.core.text import cut, plain
from vaeapp.explore.facts import model_facts
from vaeapp.explore.projection import AXES, UMAP
from vaeapp.export.html_file import PCA_PLANE, export_html
from vaeapp.store.format import PRETRAINED_DIR, trained_dir
from vaeapp.store.listing import find_model
from vaeapp.store.records import LoadedModel
from vaeapp.store.upload import UploadError, import_model_zip, suggest_name
from vaeapp.ui import state
from vaeapp.ui.session_model import (
    URL_MODEL,
    default_model_path,
    listings,
    listings_clear,
    switch_to,
)
from vaeapp.ui.state import K


def _model_info(model: LoadedModel) -> None:
    st.markdown(f"**Active model:** {plain(model.record.name)}")
    facts = model_facts(model).items()
    st.markdown("\n".join(f"- {k}: {plain(v)}" for k, v in facts))


# The parameter vaeapp.ui.page.start_z reads z from (importing it from there
# would be circular: the page imports the sidebar).
URL_Z = "z"
URL_MAX = 2_000  # characters of the browser's address kept in a link


def view_link(base: str | None, name: str, z: np.ndarray) -> str:
    """``base?model=NAME&z=...``: the page opened on model ``name`` at ``z``
    ``(latent_dim,)``; ``base`` is the page's address as the browser gives it
    (:attr:`st.context.url`, without a query), None for a relative link."""
    values = ",".join(format(round(float(v), 4), "g") for v in z)
    query = urlencode({URL_MODEL: name, URL_Z: values}, safe=",")
    page = cut(base or "", URL_MAX)
    if page and not urlsplit(page).path:
        page += "/"  # Streamlit gives a server's root without its slash
    return f"{page}?{query}"


def linkable(model: LoadedModel) -> bool:
    """Whether a link can name ``model``: its name must lead back to its
    folder (a trained folder named like a shipped model cannot: the shipped
    name wins, :func:`vaeapp.store.listing.model_named`)."""
    try:
        found = find_model(model.record.name, names_only=True)
    except ValueError:
        return False
    return Path(found).resolve() == Path(model.record.path).resolve()


@state.fragment()
def _view_link(model: LoadedModel) -> None:
    """A switch that shows the link to ``model`` at the current z, in a code
    block with a copy button.

    A switch, not a button: the Retrain form's submit button stays the
    sidebar's first. A fragment, and the link made when it runs: z moves
    without the sidebar being redrawn, so switching it on again (or any
    full run) makes the link from the z of that moment.
    """
    if not st.toggle(
        "Link to this view",
        key=K.VIEW_LINK,
        help=f"A link that opens this page on this model at this z: "
        f"?{URL_MODEL}=NAME&{URL_Z}=...",
    ):
        return
    if not linkable(model):
        st.caption(
            "No link can name this model: a shipped model has the same name, "
            "and a link opens that one."
        )
        return
    link = view_link(st.context.url, model.record.name, state.z())
    st.code(link, language=None, wrap_lines=True)
    st.caption("At the z when shown: after moving z, switch this off and on.")


@st.cache_data(show_spinner=False, max_entries=4)
def export_file(
    path: str, figures: str, plane: str | None, _model: LoadedModel
) -> bytes:
    """The model's explorer as one HTML file (:mod:`vaeapp.export`), about
    2-4 MB; ``path``, ``figures`` (test -ELBO and epochs) and ``plane`` key
    the cache, so a retrained folder of the same name gets a new file."""
    return export_html(_model, plane).encode("utf-8")


def export_plane_name(view: str, dims: tuple[int, int], stored: bool) -> str:
    """The exported file's ``--plane`` for a model of more than two latent
    dimensions whose map shows ``view`` (``dims``, 0-based, on the
    dimensions' plane): that view, PCA for UMAP when the folder has no
    ``stored`` UMAP plane."""
    if view == AXES:
        return f"{dims[0] + 1},{dims[1] + 1}"
    return UMAP if view == UMAP and stored else PCA_PLANE


def _export_button(model: LoadedModel) -> None:
    """Download the active model's explorer as one HTML file, for the plane
    the map shows; the file is built only when the button is clicked."""
    record = model.record
    latent_dim = record.model.latent_dim
    plane = None
    if latent_dim > 2:
        dims = state.map_dims(latent_dim)
        plane = export_plane_name(state.map_view(), dims, UMAP in model.planes)
    figures = f"{record.test_neg_elbo}-{record.epochs_trained}"
    st.download_button(
        "Download explorer (one HTML file)",
        # A callable: built on the click (in a thread of its own, so the
        # session's state is read above, not in it), then cached.
        lambda: export_file(str(record.path), figures, plane, model),
        file_name=f"{record.name}-explorer.html",
        mime="text/html",
        key=K.DOWNLOAD_EXPORT,
        on_click="ignore",
        help="The map, live decoding, grid and samples of this model in one "
        "file that opens in a browser with no server and no network.",
    )


def _on_pick() -> None:
    switch_to(state.widget(K.MODEL_PICK))


def _switcher(model: LoadedModel) -> None:
    found = listings()
    usable = [item for item in found if item.record is not None]
    broken = [item for item in found if item.record is None]
    paths = [str(item.path) for item in usable]
    # Short labels: the sidebar's default width cuts longer ones off.
    labels = {
        str(item.path): f"{item.name} · {item.record.test_neg_elbo:.1f}"
        for item in usable
    }
    current = str(model.record.path)
    if current not in paths:
        paths.insert(0, current)
        labels[current] = model.record.name
    # The box shows the active model whatever route made it active (this box,
    # Restore, a finished Retrain, an upload, a link): its own value would
    # otherwise keep the last pick.
    state.show_model_pick(current)
    st.selectbox(
        "Switch model (test −ELBO, nats)",
        paths,
        format_func=lambda p: labels.get(p, p),
        key=K.MODEL_PICK,
        on_change=_on_pick,
        help="The shipped models first, then those trained or uploaded here.",
    )
    if model.record.path.parent != PRETRAINED_DIR:
        st.button(
            "Restore pretrained model", on_click=lambda: switch_to(default_model_path())
        )
    _upload()
    if broken:
        with st.expander(f"{len(broken)} unusable model folder(s)"):
            for item in broken:
                st.text(cut(f"{item.name}: {item.problem}"))


def _import_upload() -> None:
    """Validate and import the uploaded zip; nothing on disk changes if refused."""
    upload = state.widget(K.MODEL_UPLOAD)
    if upload is None:
        return
    parent = trained_dir()
    try:
        path = import_model_zip(
            upload.getvalue(),
            parent,
            suggest_name(upload.name, parent),
            # The administrator's cap: Streamlit's own, which the uploader obeys.
            limit_mb=int(st.get_option("server.maxUploadSize")),
        )
    except UploadError as error:
        state.set_upload_result(f"Upload refused: {error}", ok=False)
        return
    listings_clear()
    switch_to(path)
    state.set_upload_result(f"Imported {path.name}; now exploring it.", ok=True)


def _upload() -> None:
    st.file_uploader(
        "Upload a model zip (made by this app)",
        type=["zip"],
        key=K.MODEL_UPLOAD,
        on_change=_import_upload,
    )
    result = state.take_upload_result()
    if result:
        text, ok = result
        (st.success if ok else st.error)(plain(text))


def model_panel(model: LoadedModel) -> None:
    """The active model, the switcher and the upload."""
    _model_info(model)
    _view_link(model)
    _export_button(model)
    _switcher(model)
