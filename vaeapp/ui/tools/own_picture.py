"""The Encode your image tool: a digit drawn on the pad (MNIST-like models)
or a picture uploaded, prepared as training prepared its images, encoded, its
reconstruction and posterior shown, and z moved to it on request."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import streamlit as st

from vaeapp.core.config import MNIST_SHAPE
from vaeapp.core.text import plain
from vaeapp.data.preprocess import MAX_MB, ImageError, fit_picture, preprocess
from vaeapp.store.records import LoadedModel
from vaeapp.ui import state
from vaeapp.ui.components.draw_pad import draw_canvas, drawing_bytes
from vaeapp.ui.state import K
from vaeapp.ui.tools.shared import WITH_MAP, strip
from vaeapp.web.assets import model_token


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
    state.redraw(WITH_MAP)


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


def own_picture_tool(model: LoadedModel) -> None:
    """The Encode your image tab: the pad and the upload, then the prepared
    picture beside its reconstruction, its posterior, and the button that
    moves z to it."""
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
