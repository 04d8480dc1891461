"""What more than one tool uses: image strips, the animated GIF and its
download, the path source of an axis sweep, and what a tool's change redraws."""

from __future__ import annotations

import numpy as np
import streamlit as st

from vaeapp.explore.images import image_array, to_uint8, upscale
from vaeapp.explore.traversal import decoded_frames, gif_bytes
from vaeapp.store.records import LoadedModel
from vaeapp.ui import state
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
