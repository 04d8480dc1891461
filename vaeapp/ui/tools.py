"""Explorer tools below the map: interpolation (and its animation), an axis
sweep, neighbours, prior samples, training curves, per-dimension KL and the
model download."""

from __future__ import annotations

import io
import zipfile
from collections.abc import Callable

import numpy as np
import plotly.graph_objects as go
import streamlit as st

from vaeapp.core.config import MNIST_SHAPE
from vaeapp.core.text import plain
from vaeapp.data.preprocess import MAX_MB, ImageError, fit_picture, preprocess
from vaeapp.explore.analysis import (
    INTERP_MAX,
    INTERP_MIN,
    SAMPLES_MAX,
    interpolate,
    kl_per_dimension,
    nearest_neighbours,
    prior_samples,
)
from vaeapp.explore.images import image_array, png_bytes, to_uint8, upscale
from vaeapp.explore.projection import PCA
from vaeapp.explore.traversal import (
    SWEEP_FRAMES,
    SWEEP_FRAMES_MAX,
    SWEEP_FRAMES_MIN,
    SWEEP_LIMIT,
    axis_sweep,
    decoded_frames,
    gif_bytes,
)
from vaeapp.store.folder import MODEL_FILES, LoadedModel, held_out_curve
from vaeapp.ui import state
from vaeapp.ui.components.draw_pad import draw_canvas, drawing_bytes
from vaeapp.ui.components.image_view import scale_for
from vaeapp.ui.state import K, Views
from vaeapp.web.assets import model_token

STRIP_PX = 84  # each image of a strip: 28x28 MNIST three times as large
INTERP_DEFAULT = 10
SAVED, DIGITS = "saved A to current z", "two test digits"
SWEEP = "axis sweep"  # the source of a PathChoice that sweeps dimension i
GIF_PX = 168  # each frame of an animation: 28x28 MNIST six times as large
SAMPLE_COUNT_DEFAULT = 12
TEMPERATURE_MIN, TEMPERATURE_MAX, TEMPERATURE_STEP = 0.1, 2.0, 0.1
NEIGHBOURS = 8
# What a change in a tool redraws: the tools, and the map for what it shows.
_WITH_MAP = (Views.TOOLS, Views.EXPLORER)


def strip(
    images: np.ndarray, image_shape: tuple[int, ...], pixels: int = STRIP_PX
) -> np.ndarray:
    """``k`` flat images in [0, 1] of ``image_shape`` -> one row of them, each
    about ``pixels`` wide: uint8 ``(h * s, k * w * s)``, or ``(.., .., 3)`` for
    colour."""
    tiles = [to_uint8(image_array(image, image_shape)) for image in images]
    return upscale(np.concatenate(tiles, axis=1), scale_for(image_shape, pixels))


def interpolation_points(
    model: LoadedModel, choice: state.PathChoice
) -> np.ndarray | None:
    """The points of interpolation ``choice`` ``(steps, latent_dim)``, ending at
    the current z for a path from saved A; None without a usable A."""
    if choice.source == DIGITS:
        count = model.latent_mean.shape[0]
        i, j = (min(max(v, 0), count - 1) for v in (choice.i, choice.j))
        start, end = model.latent_mean[i], model.latent_mean[j]
    else:
        start, end = state.saved_z(), state.z()
        if start is None or start.shape != end.shape:
            return None
    return interpolate(start, end, choice.steps)


def sweep_points(model: LoadedModel, choice: state.PathChoice) -> np.ndarray | None:
    """The points of axis sweep ``choice`` ``(steps, latent_dim)`` through the
    current z; None if its dimension or frame count no longer fits."""
    latent_dim = model.record.model.latent_dim
    if not 0 <= choice.i < latent_dim:
        return None
    if not SWEEP_FRAMES_MIN <= choice.steps <= SWEEP_FRAMES_MAX:
        return None
    return axis_sweep(state.z(), choice.i, choice.steps)


def map_path(model: LoadedModel) -> np.ndarray | None:
    """The path drawn on the map ``(steps, latent_dim)`` (an interpolation or
    an axis sweep), if any."""
    choice = state.shown_path()
    if choice is None:
        return None
    if choice.source == SWEEP:
        return sweep_points(model, choice)
    return interpolation_points(model, choice)


def _shown_kind(sweep: bool) -> bool:
    """Whether the path on the map is an axis sweep (``sweep``) or an
    interpolation (not ``sweep``)."""
    choice = state.shown_path()
    return choice is not None and (choice.source == SWEEP) == sweep


@st.cache_data(show_spinner=False, max_entries=8)
def _gif(token: str, points: np.ndarray, _model: LoadedModel) -> tuple[bytes, int]:
    """The bounced GIF of the images decoded at ``points`` and its width in
    px (cached: a rerun that leaves z alone does not encode it again)."""
    shape = _model.image_shape
    frames = decoded_frames(_model.vae, points, shape, scale_for(shape, GIF_PX))
    return gif_bytes(frames, bounce=True), frames.shape[2]


def animation(
    model: LoadedModel, points: np.ndarray, caption: str, file_name: str, key: K
) -> None:
    """The images decoded at ``points`` ``(k, latent_dim)`` as an animated GIF
    that plays in the page (forward and back), and its download."""
    gif, width = _gif(model_token(model), points, model)
    st.image(gif, caption=caption, width=width)
    st.download_button(
        f"Download animation (GIF, {len(gif) / 1e3:.0f} kB)",
        gif,
        file_name,
        "image/gif",
        key=key,
    )


def map_samples(latent_dim: int) -> np.ndarray | None:
    """The prior samples shown on the map ``(count, latent_dim)``, if any."""
    drawn = state.samples()
    if drawn is None:
        return None
    count, temperature, seed = drawn
    return prior_samples(count, latent_dim, temperature, seed)


def _interp_choice() -> state.PathChoice:
    """The interpolation the tool's controls describe."""
    return state.PathChoice(
        source=state.widget(K.INTERP_SOURCE) or SAVED,
        steps=int(state.widget(K.INTERP_STEPS) or INTERP_DEFAULT),
        i=int(state.widget(K.INTERP_I) or 0),
        j=int(state.widget(K.INTERP_J) or 0),
    )


def _toggle_path() -> None:
    shown = _shown_kind(sweep=False)
    state.set_shown_path(None if shown else _interp_choice())
    state.redraw(_WITH_MAP)


def _on_interp_change() -> None:
    """A shown path follows the tool's controls."""
    if _shown_kind(sweep=False):
        state.set_shown_path(_interp_choice())
        state.redraw(_WITH_MAP)


def interpolation_controls(model: LoadedModel) -> state.PathChoice:
    """Draw the interpolation's controls; return the interpolation chosen."""
    c1, c2 = st.columns([1, 2])
    c1.button("Save current z as A", key=K.SAVE_A, on_click=state.save_z)
    c2.slider(
        "Steps",
        INTERP_MIN,
        INTERP_MAX,
        INTERP_DEFAULT,
        key=K.INTERP_STEPS,
        on_change=_on_interp_change,
    )
    source = st.radio(
        "From",
        (SAVED, DIGITS),
        horizontal=True,
        key=K.INTERP_SOURCE,
        on_change=_on_interp_change,
    )
    if source == DIGITS:
        last = model.latent_mean.shape[0] - 1
        a, b = st.columns(2)
        a.number_input(
            "Test image #", 0, last, 0, key=K.INTERP_I, on_change=_on_interp_change
        )
        b.number_input(
            "to test image #", 0, last, 1, key=K.INTERP_J, on_change=_on_interp_change
        )
    return _interp_choice()


def _interpolation(model: LoadedModel) -> None:
    choice = interpolation_controls(model)
    points = interpolation_points(model, choice)
    if points is None:
        st.info("Save a point A first, then move z and come back.")
        return
    picture = strip(model.vae.decode(points), model.image_shape)
    st.image(picture, output_format="PNG", caption="A → B, decoded at equal steps")
    c1, c2 = st.columns(2)
    c1.download_button(
        "Download strip (PNG)",
        lambda: png_bytes(picture),
        "interpolation.png",
        "image/png",
        key=K.DOWNLOAD_STRIP,
    )
    shown = _shown_kind(sweep=False)
    c2.button(
        "Hide path on map" if shown else "Show path on map",
        key=K.PATH_BUTTON,
        on_click=_toggle_path,
    )
    if st.toggle("Play as an animated GIF", key=K.INTERP_GIF):
        animation(
            model,
            points,
            "A → B and back, decoded at the same steps",
            "interpolation.gif",
            K.DOWNLOAD_INTERP_GIF,
        )


def _sweep_choice() -> state.PathChoice:
    """The axis sweep the tool's controls describe."""
    return state.PathChoice(
        source=SWEEP,
        steps=int(state.widget(K.SWEEP_FRAMES) or SWEEP_FRAMES),
        i=int(state.widget(K.SWEEP_DIM) or 0),
    )


def _toggle_sweep() -> None:
    shown = _shown_kind(sweep=True)
    state.set_shown_path(None if shown else _sweep_choice())
    state.redraw(_WITH_MAP)


def _on_sweep_change() -> None:
    """A sweep shown on the map follows the tool's controls."""
    if _shown_kind(sweep=True):
        state.set_shown_path(_sweep_choice())
        state.redraw(_WITH_MAP)


def sweep_controls(latent_dim: int) -> state.PathChoice:
    """Draw the axis sweep's controls; return the sweep chosen."""
    c1, c2 = st.columns(2)
    c1.selectbox(
        "Latent dimension",
        list(range(latent_dim)),
        format_func=lambda i: f"z{i + 1}",
        key=K.SWEEP_DIM,
        on_change=_on_sweep_change,
    )
    c2.slider(
        "Frames",
        SWEEP_FRAMES_MIN,
        SWEEP_FRAMES_MAX,
        SWEEP_FRAMES,
        2,
        key=K.SWEEP_FRAMES,
        on_change=_on_sweep_change,
    )
    return _sweep_choice()


def _plane_note(latent_dim: int, dim: int) -> str:
    """Where the sweep shows on the map, which shows two dimensions or PCA."""
    if latent_dim == 2:
        return "Its path on the map is a line across it."
    if state.map_view() == PCA:
        return "On the map (PCA plane) its path is this axis's shadow on the plane."
    if dim in state.map_dims(latent_dim):
        return "Its path on the map is a line across it."
    return (
        f"The map shows other dimensions than z{dim + 1}: there the path is a "
        "single point."
    )


def _sweep(model: LoadedModel) -> None:
    latent_dim = model.record.model.latent_dim
    choice = sweep_controls(latent_dim)
    points = sweep_points(model, choice)
    if points is None:
        st.info("Choose a dimension of this model.")
        return
    name = f"z{choice.i + 1}"
    limit = f"{SWEEP_LIMIT:g}"
    animation(
        model,
        points,
        f"{name} from −{limit} to +{limit} (prior sigma) and back, the others at z",
        f"sweep-{name}.gif",
        K.DOWNLOAD_SWEEP_GIF,
    )
    shown = _shown_kind(sweep=True)
    st.button(
        "Hide sweep on map" if shown else "Show sweep on map",
        key=K.SWEEP_PATH_BUTTON,
        on_click=_toggle_sweep,
    )
    st.caption(_plane_note(latent_dim, choice.i))


def _neighbours(model: LoadedModel) -> None:
    index, distances, predicted = nearest_neighbours(
        model.latent_mean, model.labels, state.z(), k=NEIGHBOURS
    )
    names = model.class_names
    if names:
        st.markdown(
            f"Predicted class at z by its {NEIGHBOURS} nearest test images: "
            f"**{plain(names[predicted])}**"
        )
    if model.test_images is not None:
        images = model.test_images[index] / np.float32(255)
        caption = "The nearest test images, nearest first"
    else:  # a folder saved without its test images
        images = model.vae.decode(model.latent_mean[index])
        caption = "Reconstructions from the neighbours' latent means"
    st.image(strip(images, model.image_shape), output_format="PNG", caption=caption)
    table = {"test #": index.tolist()}
    if names:
        table["label"] = [names[model.labels[i]] for i in index]
    table["distance"] = np.round(distances, 3).tolist()
    st.dataframe(table, hide_index=True)


def _draw_samples() -> None:
    state.draw_samples()
    state.redraw(_WITH_MAP)


def _clear_samples() -> None:
    state.clear_samples()
    state.redraw(_WITH_MAP)


def _sampling(model: LoadedModel) -> None:
    c1, c2 = st.columns(2)
    c1.slider("How many", 1, SAMPLES_MAX, SAMPLE_COUNT_DEFAULT, key=K.SAMPLE_COUNT)
    c2.slider(
        "Temperature",
        TEMPERATURE_MIN,
        TEMPERATURE_MAX,
        1.0,
        TEMPERATURE_STEP,
        key=K.SAMPLE_TEMP,
    )
    c1, c2 = st.columns(2)
    c1.button("Draw from the prior N(0, I)", on_click=_draw_samples, key=K.DRAW_SAMPLES)
    z = map_samples(model.record.model.latent_dim)
    if z is None:
        return
    c2.button("Clear samples", on_click=_clear_samples, key=K.CLEAR_SAMPLES)
    st.image(
        strip(model.vae.decode(z), model.image_shape),
        output_format="PNG",
        caption=f"{len(z)} samples from the prior (white stars on the map)",
    )


def _curves(model: LoadedModel) -> None:
    history = model.record.metrics.get("history", [])
    if not history:
        st.info("This model has no per-epoch history.")
        return
    epochs = list(range(1, len(history) + 1))
    figure = go.Figure()
    curves = [("recon", "train reconstruction"), ("kl", "train KL")]
    held_out = held_out_curve(history)
    if held_out is not None:
        prefix = held_out[0].removesuffix("_neg_elbo")
        kind = held_out[1].removesuffix(" −ELBO")
        curves += [(f"{prefix}_recon", f"{kind} reconstruction"), held_out]
    for key, label in curves:
        values = [row.get(key) if isinstance(row, dict) else None for row in history]
        figure.add_scatter(x=epochs, y=values, name=label)
    figure.update_layout(
        height=320,
        margin=dict(l=10, r=10, t=10, b=10),
        xaxis_title="epoch",
        yaxis_title="nats per image",
    )
    st.plotly_chart(figure, key=K.HISTORY_CHART)
    if model.snapshots:
        epochs_saved = sorted(model.snapshots)
        epoch = st.select_slider(
            "Manifold grid after epoch",
            epochs_saved,
            value=epochs_saved[-1],
            key=K.SNAPSHOT_EPOCH,
        )
        st.image(model.snapshots[epoch], output_format="PNG", width=360)


def _dimensions(model: LoadedModel) -> None:
    kl = kl_per_dimension(model.latent_mean, model.latent_log_var)
    figure = go.Figure(go.Bar(x=[f"z{i + 1}" for i in range(kl.shape[0])], y=kl))
    figure.update_layout(
        height=260, margin=dict(l=10, r=10, t=10, b=10), yaxis_title="mean KL (nats)"
    )
    st.plotly_chart(figure, key=K.KL_CHART)
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
        key=K.DOWNLOAD_MODEL,
    )


def is_mnist_like(model: LoadedModel) -> bool:
    """Whether the model's images are 28x28 grey, as MNIST's: its own pictures
    are drawn or uploaded and prepared as MNIST's digits were."""
    return model.image_shape == MNIST_SHAPE


@st.cache_data(show_spinner=False, max_entries=32)
def own_posterior(
    token: str, digit: np.ndarray, _model: LoadedModel
) -> tuple[np.ndarray, np.ndarray]:
    """q(z|x) of the person's picture ``(n_pixels,)`` under the model of
    ``token``, refined per image when its folder says so: ``(mean, log_var)``,
    each ``(1, latent_dim)``. Cached: the map and this panel ask on every
    redraw, and a refined q takes tens of milliseconds."""
    return _model.encode(digit[None])


def _use_picture(read: Callable[[], bytes], image_shape: tuple[int, ...]) -> None:
    """Prepare the user's picture for the model; keep it, or the reason it was
    refused."""
    try:
        data = read()
        if image_shape == MNIST_SHAPE:
            picture = preprocess(data)
        else:
            picture = fit_picture(data, image_shape)
        state.set_own_digit(picture, None)
    except ImageError as error:
        state.set_own_digit(None, str(error))
    state.redraw(_WITH_MAP)


def _where_on_map(mean: np.ndarray, limit: float) -> str:
    """Whether the picture's posterior mean ``(latent_dim,)`` lies on the map
    (within the model's range of z, ``+-limit``), said in one sentence."""
    beyond = [f"z{i + 1}" for i, m in enumerate(mean) if abs(m) > limit]
    if not beyond:
        return "Its 2-sigma ellipse is drawn in red on the map."
    return (
        f"It lies beyond the map's ±{limit:g} in {', '.join(beyond)}, where no "
        "test image is: its ellipse is off the map, and moving z there stops "
        "at the edge."
    )


def _use_drawing() -> None:
    if not state.take_event():
        return
    _use_picture(
        lambda: drawing_bytes(state.widget(K.DRAW_CANVAS).drawing), MNIST_SHAPE
    )


def _use_upload(image_shape: tuple[int, ...]) -> None:
    upload = state.widget(K.OWN_UPLOAD)
    if upload is not None:
        _use_picture(upload.getvalue, image_shape)


def _go_to(z: list[float], latent_dim: int) -> None:
    state.change_z(z, latent_dim)


def drawing_subject(model: LoadedModel) -> str:
    """What the pad asks for, naming the model's data set: "a digit" for
    MNIST, "a picture like the fashion_mnist images" for another."""
    dataset = model.record.dataset
    return "a digit" if dataset == "mnist" else f"a picture like the {dataset} images"


def _own_digit(model: LoadedModel) -> None:
    shape = model.image_shape
    mnist = is_mnist_like(model)
    subject = drawing_subject(model)
    pad, shown = st.columns([1, 2])
    with pad:
        if mnist:
            draw_canvas(
                _use_drawing,
                key=K.DRAW_CANVAS,
                reset=model_token(model),
                subject=subject,
            )
        st.file_uploader(
            "…or upload a PNG or JPEG" if mnist else "Upload a PNG or JPEG",
            type=["png", "jpg", "jpeg"],
            key=K.OWN_UPLOAD,
            max_upload_size=MAX_MB,
            on_change=_use_upload,
            args=(shape,),
        )
    error = state.own_error()
    if error:
        shown.error(f"Picture refused: {plain(error)}")
    digit = state.own_digit()
    if digit is None or digit.size != model.record.model.n_pixels:
        shown.info(
            f"Draw {subject} and press Encode, or upload one."
            if mnist
            else "Upload a picture: it is scaled to cover "
            f"{shape[1]}x{shape[0]} pixels and centre-cropped, as training did."
        )
        return
    mean, log_var = own_posterior(model_token(model), digit, model)
    pair = np.stack([digit, model.vae.decode(mean)[0]])
    prepared = "preprocessed 28×28" if mnist else f"{shape[1]}×{shape[0]}"
    shown.image(
        strip(pair, shape, pixels=168),
        output_format="PNG",
        caption=f"{prepared} input | reconstruction from its mean",
    )
    sigma = np.exp(0.5 * log_var[0])
    shown.markdown(
        "Posterior mean "
        + ", ".join(
            f"z{i + 1} = {m:+.2f} (σ {s:.2f})"
            for i, (m, s) in enumerate(zip(mean[0], sigma, strict=True))
        )
        + ". "
        + _where_on_map(mean[0], model.z_limit)
    )
    shown.button(
        "Move z to this picture",
        key=K.OWN_GO,
        on_click=_go_to,
        args=([float(v) for v in mean[0]], model.record.model.latent_dim),
    )


@state.fragment(Views.TOOLS)
def tools_section(model: LoadedModel) -> None:
    """The tools, in tabs; a fragment so their widgets rerun only this part."""
    st.subheader("Tools")
    names = [
        "Encode your image",
        "Interpolate",
        "Sweep an axis",
        "Neighbours",
        "Sample",
        "Training curves",
        "Latent dimensions",
        "Download model",
    ]
    tools = (
        _own_digit,
        _interpolation,
        _sweep,
        _neighbours,
        _sampling,
        _curves,
        _dimensions,
        _download,
    )
    # Only the open tab runs: the others (Plotly charts, the model zip) would
    # cost every first page and every rerun of this part for nothing.
    tabs = st.tabs(names, key=K.TOOLS_TAB, on_change="rerun")
    for tab, tool in zip(tabs, tools, strict=True):
        if tab.open:
            with tab:
                tool(model)
