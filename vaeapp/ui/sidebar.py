"""The sidebar: the active model, switching models, and retraining."""

from __future__ import annotations

import streamlit as st

from vaeapp.store import PRETRAINED_DIR, LoadedModel, trained_dir
from vaeapp.ui import retrain
from vaeapp.ui.models import default_model_path, listings, listings_clear, switch_to
from vaeapp.upload import UploadError, import_model_zip, suggest_name

_MODEL_PICK = "model_pick"
_UPLOAD = "model_upload"
_UPLOAD_RESULT = "model_upload_result"


def _model_info(model: LoadedModel) -> None:
    record = model.record
    st.markdown(f"**Active model:** `{record.name}`")
    rows = {
        "Architecture": record.model.describe(),
        "Latent size": record.model.latent_dim,
        "Beta": f"{record.model.beta:g}",
        "Epochs": record.epochs_trained,
        "Test −ELBO": f"{record.test_neg_elbo:.2f} nats",
        "Data": f"{record.dataset} (`{record.data_source.replace('`', '')}`)",
        "Optimizer": f"{record.train.optimizer}, lr {record.train.learning_rate:g}, "
        f"{record.train.schedule}",
    }
    st.markdown("\n".join(f"- {k}: {v}" for k, v in rows.items()))


def _switcher(model: LoadedModel) -> None:
    found = listings()
    usable = [item for item in found if item.record is not None]
    broken = [item for item in found if item.record is None]
    paths = [str(item.path) for item in usable]
    labels = {
        str(item.path): (
            f"{item.name} · {item.record.test_neg_elbo:.1f} nats"
            + (" · pretrained" if item.path.parent == PRETRAINED_DIR else "")
        )
        for item in usable
    }
    current = str(model.record.path)
    if current not in paths:
        paths.insert(0, current)
        labels[current] = model.record.name
    st.selectbox(
        "Switch model",
        paths,
        index=paths.index(current),
        format_func=lambda p: labels.get(p, p),
        key=_MODEL_PICK,
        on_change=lambda: switch_to(st.session_state[_MODEL_PICK]),
    )
    if model.record.path.parent != PRETRAINED_DIR:
        st.button(
            "Restore pretrained model", on_click=lambda: switch_to(default_model_path())
        )
    _upload()
    if broken:
        with st.expander(f"{len(broken)} unusable model folder(s)"):
            for item in broken:
                st.markdown(f"- `{item.name}`: {item.problem}")


def _import_upload() -> None:
    """Validate and import the uploaded zip; nothing on disk changes if refused."""
    upload = st.session_state.get(_UPLOAD)
    if upload is None:
        return
    parent = trained_dir()
    try:
        path = import_model_zip(
            upload.getvalue(), parent, suggest_name(upload.name, parent)
        )
    except UploadError as error:
        st.session_state[_UPLOAD_RESULT] = f"Upload refused: {error}"
        return
    listings_clear()
    switch_to(path)
    st.session_state[_UPLOAD_RESULT] = f"Imported {path.name}; now exploring it."


def _upload() -> None:
    st.file_uploader(
        "Upload a model zip (made by this app)",
        type=["zip"],
        key=_UPLOAD,
        on_change=_import_upload,
    )
    result = st.session_state.pop(_UPLOAD_RESULT, None)
    if result:
        (st.error if result.startswith("Upload refused") else st.success)(result)


def sidebar(model: LoadedModel) -> None:
    """Draw the sidebar for ``model``."""
    with st.sidebar:
        _model_info(model)
        _switcher(model)
        st.divider()
        retrain.retrain_section()
