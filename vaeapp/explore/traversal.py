"""Animated traversals of a latent space: the points of a sweep along one
latent axis, the decoded frames of any path, and an animated GIF of them.

A sweep moves one dimension from -3 to +3 in prior units (the prior is
N(0, I), so that is -3 sigma to +3 sigma) with the others held at z; an
interpolation's points come from :func:`vaeapp.explore.analysis.interpolate`. No
Streamlit here: the tool tabs (:mod:`vaeapp.ui.tools.sweep`,
:mod:`vaeapp.ui.tools.interpolation`) show and offer what this makes.
"""

from __future__ import annotations

import io

import numpy as np
from PIL import Image

from vaeapp.explore.analysis import Codec
from vaeapp.explore.images import digit_image

SWEEP_LIMIT = 3.0  # the sweep runs from -3 to +3 prior standard deviations
SWEEP_FRAMES = 25  # default: steps of 0.25
SWEEP_FRAMES_MIN, SWEEP_FRAMES_MAX = 5, 61
FRAME_MS = 120  # each frame's time on screen
FRAME_MS_MIN, FRAME_MS_MAX = 20, 2000
FRAMES_MAX = 2 * SWEEP_FRAMES_MAX  # a bounced sweep, the longest GIF made


def axis_sweep(
    z: np.ndarray,
    dim: int,
    frames: int = SWEEP_FRAMES,
    limit: float = SWEEP_LIMIT,
) -> np.ndarray:
    """``frames`` points ``(frames, latent_dim)`` float32 equal to ``z``
    ``(latent_dim,)`` except in dimension ``dim``, which goes evenly from
    ``-limit`` to ``+limit``, both included."""
    z = np.asarray(z, np.float32).reshape(-1)
    if isinstance(dim, bool) or not isinstance(dim, (int, np.integer)):
        raise ValueError(f"dim must be a whole number, got {dim!r}")
    if not 0 <= dim < z.shape[0]:
        raise ValueError(f"dim must be between 0 and {z.shape[0] - 1}, got {dim}")
    if not SWEEP_FRAMES_MIN <= frames <= SWEEP_FRAMES_MAX:
        raise ValueError(
            f"frames must be between {SWEEP_FRAMES_MIN} and {SWEEP_FRAMES_MAX}, "
            f"got {frames}"
        )
    points = np.repeat(z[None, :], frames, axis=0)
    points[:, dim] = np.linspace(-limit, limit, frames, dtype=np.float32)
    return points


def decoded_frames(
    model: Codec, points: np.ndarray, image_shape: tuple[int, ...], scale: int
) -> np.ndarray:
    """The images decoded at ``points`` ``(k, latent_dim)``, each upscaled
    ``scale`` times without blur as the page shows images: uint8
    ``(k, height * scale, width * scale)`` for grey, ``(k, .., .., 3)`` for
    colour."""
    pixels = model.decode(np.asarray(points, np.float32))
    return np.stack([digit_image(p, scale, image_shape) for p in pixels])


def gif_bytes(
    frames: np.ndarray, frame_ms: int = FRAME_MS, bounce: bool = False
) -> bytes:
    """An animated GIF that loops for ever over ``frames``, uint8
    ``(k, h, w)`` grey or ``(k, h, w, 3)`` colour, each shown ``frame_ms``.

    With ``bounce`` the frames play forward then back (the ends once each), so
    the loop has no jump: ``2k - 2`` frames. Grey frames keep their exact
    values; colour ones are reduced to a 256-colour palette each. Pillow
    merges a frame equal to the one before it into that one (its time added),
    so a path whose images stop changing gives fewer frames, not a shorter
    animation.
    """
    frames = np.asarray(frames)
    if frames.dtype != np.uint8 or frames.ndim not in (3, 4):
        raise ValueError(
            f"frames must be uint8 (k, h, w) or (k, h, w, 3), got {frames.dtype} "
            f"{frames.shape}"
        )
    if frames.ndim == 4 and frames.shape[3] != 3:
        raise ValueError(f"colour frames need 3 channels, got {frames.shape[3]}")
    if not 1 <= frames.shape[0] <= FRAMES_MAX:
        raise ValueError(f"a GIF takes 1 to {FRAMES_MAX} frames, got {len(frames)}")
    if not FRAME_MS_MIN <= frame_ms <= FRAME_MS_MAX:
        raise ValueError(
            f"frame_ms must be between {FRAME_MS_MIN} and {FRAME_MS_MAX}, "
            f"got {frame_ms}"
        )
    if bounce and frames.shape[0] > 2:
        frames = np.concatenate([frames, frames[-2:0:-1]])
    mode = "L" if frames.ndim == 3 else "RGB"
    pictures = [Image.fromarray(np.ascontiguousarray(f), mode=mode) for f in frames]
    buffer = io.BytesIO()
    pictures[0].save(
        buffer,
        format="GIF",
        save_all=True,
        append_images=pictures[1:],
        duration=int(frame_ms),
        loop=0,
    )
    return buffer.getvalue()
