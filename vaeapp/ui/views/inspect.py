"""Inspect a test image picked on the map: the image, its reconstruction from
the posterior mean, the per-pixel error, and its posterior and losses."""

from __future__ import annotations

import numpy as np
import streamlit as st

from vaeapp.core.text import plain
from vaeapp.explore.analysis import Inspection, inspect_digit
from vaeapp.explore.images import digit_image, error_image
from vaeapp.explore.projection import Plane
from vaeapp.store.records import LoadedModel
from vaeapp.ui import state
from vaeapp.ui.components.image_view import scale_for
from vaeapp.ui.state import K

PANEL_PX = 140  # pictures about this wide: three fit beside each other
# The error picture: per pixel for grey images; for colour ones the error of
# brightness (the channels' errors weighted as luminance, images.LUMA), so a
# wrong hue at the right brightness shows white.
ERROR_CAPTIONS = {
    True: "Error: red too bright, blue too dark",
    False: "Brightness error: red too bright, blue too dark",
}
ELLIPSE_COLOUR = "#1971c2"


def refusal(model: LoadedModel, index: object) -> str | None:
    """Why ``index`` names no test digit of ``model``, or None if it does."""
    count = model.labels.shape[0]
    if isinstance(index, bool) or not isinstance(index, (int, np.integer)):
        return f"ignored a test-point pick that is not a whole number: {index!r}"
    if not 0 <= index < count:
        return f"ignored test point {index}: there are {count} (0 to {count - 1})"
    return None


def inspected_index(model: LoadedModel) -> int | None:
    """The test digit this session inspects, if it is a valid index."""
    index = state.inspected()
    return None if refusal(model, index) else int(index)


def inspected_ellipse(
    model: LoadedModel, plane: Plane
) -> tuple[list[list[float]], str] | None:
    """The inspected digit's 2-sigma posterior outline on the map, if any."""
    index = inspected_index(model)
    if index is None:
        return None
    outline = plane.ellipse(
        model.latent_mean[index], model.latent_log_var[index], k=2.0
    )
    return outline.tolist(), ELLIPSE_COLOUR


@st.cache_data(show_spinner=False, max_entries=64)
def _inspection(token: str, index: int, _model: LoadedModel) -> Inspection:
    image = _model.point_images([index])[0] / np.float32(255)
    # The stored q, as the map shows it (refined, where the folder refines).
    posterior = (_model.latent_mean[index], _model.latent_log_var[index])
    return inspect_digit(_model.vae, image, posterior)


def _close() -> None:
    state.set_inspected(None)


def inspect_panel(model: LoadedModel, token: str) -> None:
    """The panel under the map; a hint when no test image is picked."""
    index = inspected_index(model)
    if index is None:
        st.caption("Click a data point on the map to inspect that test image.")
        return
    names = model.class_names
    label = f", labelled **{plain(names[model.labels[index]])}**" if names else ""
    with st.container(border=True, key=K.INSPECT_PANEL):
        head, close = st.columns([6, 1])
        head.markdown(f"**Test image #{index}**{label}")
        close.button("Close", key=K.INSPECT_CLOSE, on_click=_close)
        if index >= model.image_count:
            st.info(
                "This server has no pixels of this test image: only its "
                "encoding is shown (the blue ellipse on the map)."
            )
            mean, log_var = model.latent_mean[index], model.latent_log_var[index]
            _posterior_text(mean, np.exp(0.5 * log_var.astype(np.float64)))
            return
        result = _inspection(token, index, model)
        shape = model.image_shape
        scale = scale_for(shape, PANEL_PX)
        c1, c2, c3, c4 = st.columns([1, 1, 1, 2])
        c1.image(digit_image(result.image, scale, shape), caption="Test image")
        c2.image(
            digit_image(result.reconstruction, scale, shape),
            caption="Reconstruction from the mean",
        )
        c3.image(
            error_image(result.error, scale, shape),
            caption=ERROR_CAPTIONS[shape[2] == 1],
        )
        with c4:
            st.markdown(
                f"Reconstruction loss **{result.recon_loss:.1f} nats**  \n"
                f"KL to the prior **{result.kl:.2f} nats**  \n"
                f"Mean absolute pixel error {np.abs(result.error).mean():.3f}"
            )
            _posterior_text(result.mean, result.sigma)


def _posterior_text(mean: np.ndarray, sigma: np.ndarray) -> None:
    """Each dimension's posterior mean and sigma (both ``(latent_dim,)``)."""
    st.markdown(
        "  \n".join(
            f"`z{i + 1}`: mean {m:+.3f}, sigma {s:.3f}"
            for i, (m, s) in enumerate(zip(mean, sigma, strict=True))
        )
    )
