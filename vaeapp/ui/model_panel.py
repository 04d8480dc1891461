"""The sidebar's model panel: the active model's facts, switching models,
unusable folders and uploading a model zip."""

from __future__ import annotations

import streamlit as st

from vaeapp.data import describe_training_data
from vaeapp.store import PRETRAINED_DIR, LoadedModel, trained_dir
from vaeapp.text import cut, plain
from vaeapp.ui import state
from vaeapp.ui.models import default_model_path, listings, listings_clear, switch_to
from vaeapp.ui.state import K
from vaeapp.upload import UploadError, import_model_zip, suggest_name


def model_facts(model: LoadedModel) -> dict[str, str]:
    """What the sidebar says of ``model``, as plain text per row."""
    record = model.record
    return {
        "Architecture": record.model.describe(),
        "Latent size": str(record.model.latent_dim),
        "Beta": f"{record.model.beta:g}",
        "Epochs": str(record.epochs_trained),
        "Test −ELBO": f"{record.test_neg_elbo:.2f} nats",
        "Data": describe_training_data(record.dataset, record.train.train_size),
        "Optimizer": f"{record.train.optimizer}, lr {record.train.learning_rate:g}, "
        f"{record.train.schedule}",
    }


def _model_info(model: LoadedModel) -> None:
    st.markdown(f"**Active model:** {plain(model.record.name)}")
    facts = model_facts(model).items()
    st.markdown("\n".join(f"- {k}: {plain(v)}" for k, v in facts))


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
    st.selectbox(
        "Switch model (test −ELBO, nats)",
        paths,
        index=paths.index(current),
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
            upload.getvalue(), parent, suggest_name(upload.name, parent)
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
    _switcher(model)
