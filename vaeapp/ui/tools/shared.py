"""What more than one tool uses: image strips, the animated GIF and its
download, the path source of an axis sweep, and what a tool's change redraws."""

from __future__ import annotations

import numpy as np
import streamlit as st

from vaeapp.explore.images import image_array, to_uint8, upscale
from vaeapp.explore.traversal import FRAME_MS, decoded_frames, gif_bytes
from vaeapp.store.records import LoadedModel
from vaeapp.ui import state
from vaeapp.ui.components.frames_player import frames_player
from vaeapp.ui.components.image_view import scale_for
from vaeapp.ui.state import K, Views
from vaeapp.web.assets import model_token

STRIP_PX = 84  # each image of a strip: 28x28 MNIST three times as large
GIF_PX = 168  # each frame of an animation: 28x28 MNIST six times as large
SWEEP = "axis sweep"  # the source of a PathChoice that sweeps dimension i
# What a change in a tool redraws: the tools, and the map for what it shows.
WITH_MAP = (Views.TOOLS, Views.EXPLORER)


def strip(
    images: np.ndarray, image_shape: tuple[int, ...], pixels: int = STRIP_PX
) -> np.ndarray:
    """``k`` flat images in [0, 1] of ``image_shape`` -> one row of them, each
    about ``pixels`` wide: uint8 ``(h * s, k * w * s)``, or ``(.., .., 3)`` for
    colour."""
    tiles = [to_uint8(image_array(image, image_shape)) for image in images]
    return upscale(np.concatenate(tiles, axis=1), scale_for(image_shape, pixels))


def shown_kind(sweep: bool) -> bool:
    """Whether the path on the map is an axis sweep (``sweep``) or an
    interpolation (not ``sweep``)."""
    choice = state.shown_path()
    return choice is not None and (choice.source == SWEEP) == sweep


@st.cache_data(show_spinner=False, max_entries=8)
def _gif(token: str, points: np.ndarray, _model: LoadedModel) -> bytes:
    """The bounced GIF of the images decoded at ``points`` (cached: a second
    download of the same path does not encode it again)."""
    shape = _model.image_shape
    frames = decoded_frames(_model.vae, points, shape, scale_for(shape, GIF_PX))
    return gif_bytes(frames, bounce=True)


def animation(
    model: LoadedModel, points: np.ndarray, caption: str, file_name: str, key: K
) -> None:
    """The images decoded at ``points`` ``(k, latent_dim)`` as an animation
    (forward and back) decoded and played in the browser, and the download
    of the same frames as a GIF, encoded on the server only when clicked."""
    shape = model.image_shape
    scale = scale_for(shape, GIF_PX)
    frames_player(
        model, points, "animation", caption, shape[1] * scale, FRAME_MS, f"{key}_player"
    )
    st.download_button(
        "Download animation (GIF)",
        lambda: _gif(model_token(model), points, model),
        file_name,
        "image/gif",
        key=key,
    )
