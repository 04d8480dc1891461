"""A path's images decoded in the browser, as a strip or as an animation that
plays forward and back (a Streamlit v2 component; its script is
``vaeapp/web/frames_player.js``). The server sends only the path's points;
the GIF or PNG is made on the server only when the person downloads it."""

from __future__ import annotations

import hashlib
from typing import Any

import numpy as np

from vaeapp.store.records import LoadedModel
from vaeapp.ui.components import browser_decoder
from vaeapp.web import files
from vaeapp.web.assets import model_token

NAME = "vaeapp.frames"
MODES = ("strip", "animation")
MODULE_JS = (
    browser_decoder.DECODER_MODULE_JS + "\n" + files.read(files.FRAMES_PLAYER_JS)
)
_CSS = files.read(files.FRAMES_PLAYER_CSS)


def frames_player(
    model: LoadedModel,
    points: np.ndarray,
    mode: str,
    caption: str,
    frame_px: int,
    frame_ms: int,
    key: str,
) -> Any:
    """Show the images decoded at ``points`` ``(k, latent_dim)``, each
    ``frame_px`` wide: side by side (``mode`` "strip") or one after another,
    ``frame_ms`` each, forward then back ("animation")."""
    if mode not in MODES:
        raise ValueError(f"mode must be one of {', '.join(MODES)}, got {mode!r}")
    token = model_token(model)
    values = np.asarray(points, np.float32)
    data: dict[str, Any] = {
        "token": token,
        "mode": mode,
        "points": values.tolist(),
        "key": f"{token}-{hashlib.sha1(values.tobytes()).hexdigest()[:12]}",
        "frame_px": int(frame_px),
        "frame_ms": int(frame_ms),
        "caption": caption,
    }
    browser_decoder.add_decoder_once(data, "frames", token, model)
    return browser_decoder.mount(NAME, "frames_player", MODULE_JS, _CSS)(
        data=[data],
        key=key,
        on_missing_change=browser_decoder.resend_on_missing,
        height="content",
    )
