"""Pictures for the page and for downloads: crisp upscaling and PNG bytes, for
images of any ``(height, width, channels)`` with 1 or 3 channels.

Decoded images arrive flat (``NumpyVAE.decode`` rows, channels-last reading
order); :func:`image_array` gives one its picture shape. A grey picture is a 2-D
``(height, width)`` array (a PNG in mode "L"), a colour one ``(height, width,
3)`` RGB.
"""

from __future__ import annotations

import io

import numpy as np
from PIL import Image

from vaeapp.core.config import MNIST_SHAPE

# Weights of red, green and blue in a pixel's brightness (luma, ITU-R BT.601),
# as Pillow's RGB -> "L" conversion uses.
LUMA = np.array([0.299, 0.587, 0.114], np.float32)


def to_uint8(pixels: np.ndarray) -> np.ndarray:
    """Intensities in [0, 1] (any shape) -> uint8, NaN shown as black."""
    values = np.nan_to_num(np.asarray(pixels, dtype=np.float32), nan=0.0)
    return np.clip(np.rint(values * 255.0), 0, 255).astype(np.uint8)


def image_array(
    pixels: np.ndarray, image_shape: tuple[int, ...] = MNIST_SHAPE
) -> np.ndarray:
    """One image, flat ``(height * width * channels,)`` or already shaped, as
    its picture: ``(height, width)`` for grey, ``(height, width, 3)`` for
    colour (values unchanged).

    Raises ValueError when the number of values does not fit ``image_shape``.
    """
    values = np.asarray(pixels)
    height, width, channels = image_shape
    if values.size != height * width * channels:
        raise ValueError(
            f"an image of shape {height}x{width}x{channels} has "
            f"{height * width * channels} values, got {values.size}"
        )
    if channels == 1:
        return values.reshape(height, width)
    return values.reshape(height, width, channels)


def digit_image(
    pixels: np.ndarray, scale: int = 10, image_shape: tuple[int, ...] = MNIST_SHAPE
) -> np.ndarray:
    """One image in [0, 1] (flat or shaped, see :func:`image_array`) ->
    uint8 ``(height * scale, width * scale)`` for grey or ``(height * scale,
    width * scale, 3)`` for colour, nearest-neighbour."""
    return upscale(to_uint8(image_array(pixels, image_shape)), scale)


def upscale(image: np.ndarray, scale: int) -> np.ndarray:
    """Repeat each pixel ``scale`` times along both axes (no blur); a colour
    image's channels (axis 2) are kept."""
    return np.repeat(np.repeat(image, scale, axis=0), scale, axis=1)


def png_bytes(image: np.ndarray) -> bytes:
    """A uint8 picture as PNG file bytes: ``(h, w)`` as grey ("L"), ``(h, w,
    3)`` as colour ("RGB")."""
    array = np.asarray(image, dtype=np.uint8)
    if array.ndim == 3 and array.shape[2] == 1:
        array = array[:, :, 0]
    if array.ndim == 2:
        mode = "L"
    elif array.ndim == 3 and array.shape[2] == 3:
        mode = "RGB"
    else:
        raise ValueError(
            f"a PNG picture must be (h, w) grey or (h, w, 3) RGB, got {array.shape}"
        )
    buffer = io.BytesIO()
    Image.fromarray(np.ascontiguousarray(array), mode=mode).save(buffer, format="PNG")
    return buffer.getvalue()


def error_image(
    error: np.ndarray, scale: int = 10, image_shape: tuple[int, ...] = MNIST_SHAPE
) -> np.ndarray:
    """Signed per-pixel error (reconstruction minus image, values in [-1, 1],
    flat or shaped) -> RGB ``(height * scale, width * scale, 3)`` uint8.

    Red where the reconstruction is brighter than the image, blue where it is
    darker, white where they agree; the stronger the colour, the larger the
    error. For a colour image the error shown is that of brightness: the
    channels' errors weighted by :data:`LUMA` (0.299 red, 0.587 green, 0.114
    blue), so a pixel whose hue is wrong at the right brightness stays white.
    """
    e = np.nan_to_num(np.asarray(error, np.float32))
    e = image_array(e, image_shape)
    if e.ndim == 3:
        e = e @ LUMA
    e = np.clip(e, -1.0, 1.0)
    fade = np.rint(255.0 * (1.0 - np.abs(e))).astype(np.uint8)
    full = np.full_like(fade, 255)
    red = np.where(e > 0, full, fade)
    blue = np.where(e < 0, full, fade)
    return upscale(np.stack([red, fade, blue], axis=-1), scale)
