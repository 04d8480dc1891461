"""The decoded image next to the map, drawn from a data URL (a v2 component).

An ``st.image`` would be served as a media file: the browser fetches it over
HTTP after each rerun, a round trip on the path from a slider move to the new
digit. A 28x28 PNG is a few hundred bytes (a 64x64 colour one a few kB), so it
travels inside the rerun's message and CSS upscales it without blur.
"""

from __future__ import annotations

import base64
from collections.abc import Callable
from typing import Any

import numpy as np
import streamlit as st

from vaeapp.explore.images import image_array, png_bytes, to_uint8
from vaeapp.web import files

_JS = files.read(files.IMAGE_VIEW_JS)
_CSS = """
.vae-digit-figure { margin: 0; text-align: center; }
img.vae-digit { image-rendering: pixelated; border-radius: 6px; display: block;
  background: #000; width: 100%; aspect-ratio: 1; margin: 0 auto; }
.vae-digit-figure figcaption { color: #808495; font-size: 0.85rem; margin-top: 4px; }
"""


@st.cache_resource(show_spinner=False)
def _component() -> Callable[..., Any]:
    return st.components.v2.component(
        "vaeapp.digit", js=_JS, css=_CSS, isolate_styles=False
    )


def scale_for(image_shape: tuple[int, ...], pixels: int) -> int:
    """The whole-number upscaling that shows an image of ``image_shape`` at
    about ``pixels`` on its longer side (at least 1)."""
    return max(1, round(pixels / max(image_shape[:2])))


def digit_src(pixels: np.ndarray, image_shape: tuple[int, ...]) -> str:
    """One flat image in [0, 1] of ``image_shape`` -> a ``data:image/png`` URL
    of it at its own size (grey or RGB)."""
    image = to_uint8(image_array(pixels, image_shape))
    return "data:image/png;base64," + base64.b64encode(png_bytes(image)).decode()


def digit_picture(
    pixels: np.ndarray,
    image_shape: tuple[int, ...],
    z: np.ndarray,
    caption: str,
    size: int,
    key: str = "digit",
) -> Any:
    """Show one decoded image (flat, of ``image_shape``), decoded at ``z``
    ``(latent_dim,)``, as a picture ``size`` px wide."""
    return _component()(
        data={
            "src": digit_src(pixels, image_shape),
            "z": ",".join(f"{v:.4f}" for v in np.asarray(z, np.float64)),
            "caption": caption,
            "size": int(size),
            "alt": caption,
        },
        key=key,
        height=size + 28,
    )
