"""Explorer tools below the map: interpolation, neighbours, prior samples,
training curves, per-dimension KL and the model download."""

from __future__ import annotations

import io
import zipfile
from collections.abc import Callable

import numpy as np
import plotly.graph_objects as go
import streamlit as st

from vaeapp.analysis import (
    INTERP_MAX,
    INTERP_MIN,
    SAMPLES_MAX,
    interpolate,
    kl_per_dimension,
    nearest_neighbours,
    prior_samples,
)
from vaeapp.config import IMAGE_SIDE
from vaeapp.data import CLASS_NAMES
from vaeapp.images import png_bytes, to_uint8, upscale
from vaeapp.preprocess import ImageError, preprocess
from vaeapp.store import MODEL_FILES, LoadedModel
from vaeapp.ui import keys
from vaeapp.ui.draw_canvas import draw_canvas, drawing_bytes
from vaeapp.ui.latent_state import set_z

DRAW_KEY = "draw_canvas"
UPLOAD_KEY = "own_upload"

STRIP_SCALE = 3


def strip(images: np.ndarray, scale: int = STRIP_SCALE) -> np.ndarray:
    """``(k, 784)`` images in [0, 1] -> one row ``(28 * s, k * 28 * s)`` uint8."""
    tiles = to_uint8(images).reshape(-1, IMAGE_SIDE, IMAGE_SIDE)
    return upscale(np.concatenate(list(tiles), axis=1), scale)


def _request_map_update() -> None:
    st.session_state[keys.RERUN_APP] = True


def _set_overlay(key: str, points: list[list[float]] | None) -> None:
    if points is None:
        st.session_state.pop(key, None)
    else:
        st.session_state[key] = points
    _request_map_update()


def _interpolation(model: LoadedModel) -> None:
    z = np.asarray(st.session_state[keys.Z], np.float32)
    saved = st.session_state.get(keys.SAVED_Z)
    c1, c2 = st.columns([1, 2])
    if c1.button("Save current z as A", key="save_a"):
        st.session_state[keys.SAVED_Z] = [float(v) for v in z]
        saved = st.session_state[keys.SAVED_Z]
    steps = c2.slider("Steps", INTERP_MIN, INTERP_MAX, 10, key="interp_steps")
    source = st.radio(
        "From",
        ("saved A to current z", "two test digits"),
        horizontal=True,
        key="interp_source",
    )
    if source == "two test digits":
        n = model.latent_mean.shape[0]
        a, b = st.columns(2)
        i = a.number_input("Test digit #", 0, n - 1, 0, key="interp_i")
        j = b.number_input("to test digit #", 0, n - 1, 1, key="interp_j")
        start, end = model.latent_mean[int(i)], model.latent_mean[int(j)]
    elif saved is None or len(saved) != z.shape[0]:
        st.info("Save a point A first, then move z and come back.")
        return
    else:
        start, end = np.asarray(saved, np.float32), z
    points = interpolate(start, end, int(steps))
    picture = strip(model.vae.decode(points))
    st.image(picture, output_format="PNG", caption="A → B, decoded at equal steps")
    c1, c2 = st.columns(2)
    c1.download_button(
        "Download strip (PNG)",
        lambda: png_bytes(picture),
        "interpolation.png",
        "image/png",
        key="download_strip",
    )
    shown = keys.OVERLAY_PATH in st.session_state
    c2.button(
        "Hide path on map" if shown else "Show path on map",
        key="show_path",
        on_click=_set_overlay,
        args=(keys.OVERLAY_PATH, None if shown else points.tolist()),
    )


def _neighbours(model: LoadedModel) -> None:
    z = np.asarray(st.session_state[keys.Z], np.float32)
    index, distances, predicted = nearest_neighbours(
        model.latent_mean, model.labels, z, k=8
    )
    names = CLASS_NAMES[model.record.dataset]
    st.markdown(
        f"Predicted class at z by its 8 nearest test digits: **{names[predicted]}**"
    )
    if model.test_images is not None:
        images = model.test_images[index] / np.float32(255)
        caption = "The nearest test digits, nearest first"
    else:  # a folder saved without its test images
        images = model.vae.decode(model.latent_mean[index])
        caption = "Reconstructions from the neighbours' latent means"
    st.image(strip(images), output_format="PNG", caption=caption)
    st.dataframe(
        {
            "test #": index.tolist(),
            "label": [names[model.labels[i]] for i in index],
            "distance": np.round(distances, 3).tolist(),
        },
        hide_index=True,
    )


def _draw_samples(latent_dim: int) -> None:
    """Draw new prior samples (a fresh seed each time) and show them on the map."""
    seed = st.session_state.get(keys.SAMPLE_SEED, 0) + 1
    st.session_state[keys.SAMPLE_SEED] = seed
    z = prior_samples(
        st.session_state["sample_count"],
        latent_dim,
        st.session_state["sample_temp"],
        seed,
    )
    _set_overlay(keys.OVERLAY_SAMPLES, z.tolist())


def _sampling(model: LoadedModel) -> None:
    c1, c2 = st.columns(2)
    c1.slider("How many", 1, SAMPLES_MAX, 12, key="sample_count")
    c2.slider("Temperature", 0.1, 2.0, 1.0, 0.1, key="sample_temp")
    c1, c2 = st.columns(2)
    c1.button(
        "Draw from the prior N(0, I)",
        on_click=_draw_samples,
        key="draw",
        args=(model.record.model.latent_dim,),
    )
    samples = st.session_state.get(keys.OVERLAY_SAMPLES)
    if not samples:
        return
    c2.button(
        "Clear samples",
        on_click=_set_overlay,
        args=(keys.OVERLAY_SAMPLES, None),
        key="clear_samples",
    )
    z = np.asarray(samples, np.float32)
    st.image(
        strip(model.vae.decode(z)),
        output_format="PNG",
        caption=f"{len(z)} samples from the prior (stars on the map)",
    )


def _curves(model: LoadedModel) -> None:
    history = model.record.metrics.get("history", [])
    if not history:
        st.info("This model has no per-epoch history.")
        return
    epochs = list(range(1, len(history) + 1))
    figure = go.Figure()
    for key, label in (
        ("recon", "train reconstruction"),
        ("test_recon", "test reconstruction"),
        ("kl", "train KL"),
        ("test_neg_elbo", "test −ELBO"),
    ):
        values = [row.get(key) if isinstance(row, dict) else None for row in history]
        figure.add_scatter(x=epochs, y=values, name=label)
    figure.update_layout(
        height=320,
        margin=dict(l=10, r=10, t=10, b=10),
        xaxis_title="epoch",
        yaxis_title="nats per image",
    )
    st.plotly_chart(figure, key="history_chart")
    if model.snapshots:
        epochs_saved = sorted(model.snapshots)
        epoch = st.select_slider(
            "Manifold grid after epoch",
            epochs_saved,
            value=epochs_saved[-1],
            key="snapshot_epoch",
        )
        st.image(model.snapshots[epoch], output_format="PNG", width=360)


def _dimensions(model: LoadedModel) -> None:
    kl = kl_per_dimension(model.latent_mean, model.latent_log_var)
    figure = go.Figure(go.Bar(x=[f"z{i + 1}" for i in range(kl.shape[0])], y=kl))
    figure.update_layout(
        height=260, margin=dict(l=10, r=10, t=10, b=10), yaxis_title="mean KL (nats)"
    )
    st.plotly_chart(figure, key="kl_chart")
    st.caption("Dimensions with KL near 0 are unused: their posterior is the prior.")


@st.cache_data(show_spinner=False, max_entries=4)
def model_zip(path: str, token: str) -> bytes:
    """The model folder's files as zip bytes (``token`` invalidates the cache)."""
    from pathlib import Path

    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name in MODEL_FILES:
            file = Path(path) / name
            if file.is_file():
                archive.write(file, arcname=name)
    return buffer.getvalue()


def _download(model: LoadedModel) -> None:
    record = model.record
    data = model_zip(
        str(record.path), f"{record.test_neg_elbo}-{record.epochs_trained}"
    )
    st.download_button(
        f"Download {record.name}.zip ({len(data) / 1e6:.1f} MB)",
        data,
        f"{record.name}.zip",
        "application/zip",
        key="download_model",
    )


def _use_picture(read: Callable[[], bytes]) -> None:
    """Preprocess the user's picture; keep it, or the reason it was refused."""
    try:
        st.session_state[keys.OWN_DIGIT] = preprocess(read())
        st.session_state.pop(keys.OWN_ERROR, None)
    except ImageError as error:
        st.session_state[keys.OWN_ERROR] = str(error)
    _request_map_update()


def _use_drawing() -> None:
    _use_picture(lambda: drawing_bytes(st.session_state[DRAW_KEY].drawing))


def _use_upload() -> None:
    upload = st.session_state.get(UPLOAD_KEY)
    if upload is not None:
        _use_picture(upload.getvalue)


def _go_to(z: list[float], latent_dim: int) -> None:
    set_z(z, latent_dim)
    _request_map_update()


def _own_digit(model: LoadedModel) -> None:
    pad, shown = st.columns([1, 2])
    with pad:
        draw_canvas(_use_drawing, key=DRAW_KEY)
        st.file_uploader(
            "…or upload a PNG or JPEG",
            type=["png", "jpg", "jpeg"],
            key=UPLOAD_KEY,
            on_change=_use_upload,
        )
    error = st.session_state.get(keys.OWN_ERROR)
    if error:
        shown.error(f"Picture refused: {error}")
    digit = st.session_state.get(keys.OWN_DIGIT)
    if digit is None:
        shown.info("Draw a digit and press Encode, or upload a picture of one.")
        return
    mean, log_var = model.vae.encode(digit[None])
    pair = np.stack([digit, model.vae.decode(mean)[0]])
    shown.image(
        strip(pair, scale=6),
        output_format="PNG",
        caption="preprocessed 28×28 input | reconstruction from its mean",
    )
    sigma = np.exp(0.5 * log_var[0])
    shown.markdown(
        "Posterior mean "
        + ", ".join(
            f"z{i + 1} = {m:+.2f} (σ {s:.2f})"
            for i, (m, s) in enumerate(zip(mean[0], sigma, strict=True))
        )
        + ". Its 2-sigma ellipse is drawn in red on the map."
    )
    shown.button(
        "Move z to this digit",
        key="own_go",
        on_click=_go_to,
        args=([float(v) for v in mean[0]], model.record.model.latent_dim),
    )


@st.fragment
def tools_section(model: LoadedModel) -> None:
    """The tools, in tabs; a fragment so their widgets rerun only this part."""
    if st.session_state.pop(keys.RERUN_APP, False):
        st.rerun(scope="app")
    st.subheader("Tools")
    names = [
        "Encode your digit",
        "Interpolate",
        "Neighbours",
        "Sample",
        "Training curves",
        "Latent dimensions",
        "Download model",
    ]
    tools = (
        _own_digit,
        _interpolation,
        _neighbours,
        _sampling,
        _curves,
        _dimensions,
        _download,
    )
    # Only the open tab runs: the others (Plotly charts, the model zip) would
    # cost every first page and every rerun of this part for nothing.
    tabs = st.tabs(names, key=keys.TOOLS_TAB, on_change="rerun")
    for tab, tool in zip(tabs, tools, strict=True):
        if tab.open:
            with tab:
                tool(model)
