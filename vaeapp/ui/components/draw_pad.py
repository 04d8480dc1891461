"""A pad to draw a digit on, sending it as a PNG (a Streamlit v2 component).

The browser sends the drawing as a ``data:image/png;base64,...`` URL; treat it
as untrusted upload bytes: :func:`drawing_bytes` checks and decodes it, then
:func:`vaeapp.data.preprocess.preprocess` decodes the PNG safely.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable
from typing import Any

import streamlit as st

from vaeapp.data.preprocess import ImageError
from vaeapp.web import files

DATA_URL_PREFIX = "data:image/png;base64,"
# Decoded PNG size. The pad's 280x280 RGBA picture is at most about 320 kB as
# a PNG; as base64 this limit stays under server.maxWidgetStateSize (1 MB).
MAX_DRAWING_BYTES = 600_000
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
LINE_WIDTH = 18  # stroke width in the pad's 280x280 pixels

_JS = files.read(files.DRAW_PAD_JS)
_CSS = """
.vae-draw { display: flex; flex-direction: column; gap: 6px; width: 100%;
  max-width: 280px; }
.vae-draw-pad { width: 100%; height: auto; aspect-ratio: 1 / 1; background: #000;
  border-radius: 6px; touch-action: none; cursor: crosshair; display: block; }
.vae-draw-buttons { display: flex; gap: 8px; }
.vae-draw-buttons button { flex: 1 1 0; padding: 4px 12px; border-radius: 6px;
  border: 1px solid rgba(128, 128, 128, 0.5); background: transparent;
  color: inherit; font: inherit; cursor: pointer; }
.vae-draw-buttons button:hover { border-color: #ff4b4b; color: #ff4b4b; }
.vae-draw-hint { font-size: 0.8rem; color: #888; min-height: 1em; }
"""


@st.cache_resource(show_spinner=False)
def _component() -> Callable[..., Any]:
    return st.components.v2.component(
        "vaeapp.draw_canvas", js=_JS, css=_CSS, isolate_styles=False
    )


def draw_canvas(
    on_drawing: Callable[[], None],
    key: str = "draw_canvas",
    live: bool = False,
    line_width: int = LINE_WIDTH,
    reset: str = "",
    subject: str = "a digit",
) -> Any:
    """Mount the pad; ``on_drawing`` runs when "Encode" is pressed (and, with
    ``live``, after every stroke), with the PNG data URL in
    ``drawing`` of the widget value under ``key`` (``state.widget(key)``; pass
    it to :func:`drawing_bytes`). A new ``reset`` (e.g. another model's
    token) wipes the pad; ``subject`` says what to draw, for its label.

    The default key is not ``"draw"``: the Sample tool's button already uses it.
    """
    return _component()(
        data={
            "live": bool(live),
            "line_width": int(line_width),
            "reset": str(reset),
            "subject": str(subject),
        },
        key=key,
        on_drawing_change=on_drawing,
    )


def drawing_bytes(value: Any) -> bytes:
    """A ``data:image/png;base64,`` URL from the pad -> the PNG file's bytes.

    Raises ImageError unless ``value`` is such a string whose payload is valid
    base64 of at most :data:`MAX_DRAWING_BYTES` bytes starting like a PNG.
    """
    if not isinstance(value, str) or not value.startswith(DATA_URL_PREFIX):
        raise ImageError("the drawing did not arrive as a PNG data URL")
    payload = value[len(DATA_URL_PREFIX) :]
    if len(payload) > (MAX_DRAWING_BYTES + 2) // 3 * 4:
        raise ImageError(
            f"the drawing is larger than {MAX_DRAWING_BYTES:,} bytes: clear the "
            "pad and draw again"
        )
    try:
        data = base64.b64decode(payload, validate=True)
    except (binascii.Error, ValueError):
        raise ImageError("the drawing's data URL is not valid base64") from None
    if len(data) > MAX_DRAWING_BYTES:
        raise ImageError(f"the drawing is larger than {MAX_DRAWING_BYTES:,} bytes")
    if not data.startswith(PNG_SIGNATURE):
        raise ImageError("the drawing's data is not a PNG image")
    return data
