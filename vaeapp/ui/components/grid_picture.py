"""The manifold grid picture, clickable cell by cell (a Streamlit v2 component)."""

from __future__ import annotations

import base64
from collections.abc import Callable
from typing import Any

import numpy as np
import streamlit as st

from vaeapp.explore.images import png_bytes
from vaeapp.web import files

_JS = files.read(files.GRID_PICTURE_JS)
_CSS = """
img.vae-grid { width: 100%; max-width: 640px; image-rendering: pixelated;
  cursor: pointer; border-radius: 6px; display: block; }
"""


@st.cache_resource(show_spinner=False)
def _component() -> Callable[..., Any]:
    return st.components.v2.component(
        "vaeapp.grid_click", js=_JS, css=_CSS, isolate_styles=False
    )


def grid_picture(
    picture: np.ndarray,
    n: int,
    image_shape: tuple[int, ...],
    on_cell: Callable[[], None],
    key: str = "grid",
) -> Any:
    """Show ``picture``, n x n images of ``image_shape`` tiled (uint8, grey
    ``(n * h, n * w)`` or colour ``(n * h, n * w, 3)``); ``on_cell`` runs on a click,
    with ``state.widget(key).cell == [row, col]``."""
    height, width = image_shape[:2]
    if picture.shape[:2] != (n * height, n * width):
        raise ValueError(
            f"grid picture has shape {picture.shape}, expected n = {n} images of "
            f"{height}x{width} a side"
        )
    src = "data:image/png;base64," + base64.b64encode(png_bytes(picture)).decode()
    return _component()(data={"src": src, "n": n}, key=key, on_cell_change=on_cell)
