"""The Download model tool: the model folder's files as one zip, which the
sidebar's upload takes back."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import streamlit as st

from vaeapp.store.format import MODEL_FILES
from vaeapp.store.records import LoadedModel
from vaeapp.ui.state import K


@st.cache_data(show_spinner=False, max_entries=4)
def model_zip(path: str, token: str) -> bytes:
    """The model folder's files as zip bytes (``token`` invalidates the cache)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name in MODEL_FILES:
            file = Path(path) / name
            if file.is_file():
                archive.write(file, arcname=name)
    return buffer.getvalue()


def download_tool(model: LoadedModel) -> None:
    """The Download model tab: one button with the zip's name and size."""
    record = model.record
    data = model_zip(
        str(record.path), f"{record.test_neg_elbo}-{record.epochs_trained}"
    )
    st.download_button(
        f"Download {record.name}.zip ({len(data) / 1e6:.1f} MB)",
        data,
        f"{record.name}.zip",
        "application/zip",
        key=K.DOWNLOAD_MODEL,
    )
