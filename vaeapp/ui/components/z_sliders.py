"""The z sliders and the selected image, drawn and decoded in the browser (a
Streamlit v2 component; its script is ``vaeapp/web/z_sliders.js``).

A move of a slider redraws the image in the browser in the same frame, from
the decoder in ``vaeapp/web/decoder.js``; the server hears of z only when the
moves settle, as the ``z`` trigger, whose callback the caller gives. Each
render also carries the server's picture of z as a small PNG data URL: shown
until the decoder's file has arrived, and for a model the browser decodes too
slowly (the page says so). The decoder comes as
:mod:`vaeapp.ui.components.browser_decoder` sends it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from vaeapp.store.records import LoadedModel
from vaeapp.ui import state
from vaeapp.ui.components import browser_decoder
from vaeapp.ui.components.image_view import digit_src
from vaeapp.web import files
from vaeapp.web.assets import model_token

NAME = "vaeapp.z_sliders"
STEP = 0.01  # the sliders' step in z
MODULE_JS = browser_decoder.DECODER_MODULE_JS + "\n" + files.read(files.Z_SLIDERS_JS)
_CSS = files.read(files.Z_SLIDERS_CSS)


def z_sliders(
    model: LoadedModel,
    z: np.ndarray,
    pixels: np.ndarray,
    caption: str,
    size: int,
    shown: int,
    on_z: Callable[[], None],
    key: str,
) -> Any:
    """Mount the sliders of ``z`` ``(latent_dim,)`` (``shown`` of them, the
    rest in a box that opens) over the image; ``pixels`` is the server's
    decode of z (flat, of the model's image shape), drawn ``size`` px wide
    until the browser decodes. ``on_z`` runs when moves settle; the z they
    reached is then the ``z`` of the widget value under ``key``."""
    token = model_token(model)
    data: dict[str, Any] = {
        "token": token,
        "z": [float(v) for v in np.asarray(z, np.float64)],
        "limit": state.z_limit(),
        "step": STEP,
        "shown": int(shown),
        "src": digit_src(pixels, model.image_shape),
        "size": int(size),
        "caption": caption,
    }
    browser_decoder.add_decoder_once(data, "sliders", token, model)
    return browser_decoder.mount(NAME, "z_sliders", MODULE_JS, _CSS)(
        data=[data],
        key=key,
        on_z_change=on_z,
        on_missing_change=browser_decoder.resend_on_missing,
        height="content",
    )
