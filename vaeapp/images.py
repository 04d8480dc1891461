"""Pictures for the page and for downloads: crisp upscaling and PNG bytes."""

from __future__ import annotations

import io

import numpy as np
from PIL import Image

from vaeapp.config import IMAGE_SIDE


def to_uint8(pixels: np.ndarray) -> np.ndarray:
    """Intensities in [0, 1] (any shape) -> uint8, NaN shown as black."""
    values = np.nan_to_num(np.asarray(pixels, dtype=np.float32), nan=0.0)
    return np.clip(np.rint(values * 255.0), 0, 255).astype(np.uint8)


def digit_image(pixels: np.ndarray, scale: int = 10) -> np.ndarray:
    """One digit ``(784,)`` -> ``(28 * scale, 28 * scale)`` uint8, nearest-neighbour."""
    image = to_uint8(pixels).reshape(IMAGE_SIDE, IMAGE_SIDE)
    return upscale(image, scale)


def upscale(image: np.ndarray, scale: int) -> np.ndarray:
    """Repeat each pixel ``scale`` times along both axes (no blur)."""
    return np.repeat(np.repeat(image, scale, axis=0), scale, axis=1)


def png_bytes(image: np.ndarray) -> bytes:
    """A 2-D uint8 array as PNG file bytes."""
    buffer = io.BytesIO()
    Image.fromarray(np.asarray(image, dtype=np.uint8), mode="L").save(
        buffer, format="PNG"
    )
    return buffer.getvalue()


def error_image(error: np.ndarray, scale: int = 10) -> np.ndarray:
    """Signed per-pixel error ``(784,)`` in [-1, 1] -> RGB ``(28s, 28s, 3)`` uint8.

    Red where the reconstruction is brighter than the image, blue where it is
    darker, white where they agree.
    """
    e = np.clip(np.nan_to_num(np.asarray(error, np.float32)), -1.0, 1.0)
    e = e.reshape(IMAGE_SIDE, IMAGE_SIDE)
    fade = np.rint(255.0 * (1.0 - np.abs(e))).astype(np.uint8)
    full = np.full_like(fade, 255)
    red = np.where(e > 0, full, fade)
    blue = np.where(e < 0, full, fade)
    rgb = np.stack([red, fade, blue], axis=-1)
    return np.repeat(np.repeat(rgb, scale, axis=0), scale, axis=1)
