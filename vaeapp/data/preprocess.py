"""A user's own digit as an MNIST-style input: safe decoding and MNIST's framing.

MNIST's digits were made from scanned black-on-white NIST digits: each was
size-normalised to fit a 20x20 box keeping its aspect ratio (anti-aliased, so
the result is grey-level), then placed in a 28x28 field so that its centre of
mass lies at the field's centre, pixel (14, 14) (an integer shift: in the real
data every digit's centre of mass is within half a pixel of (14, 14)). Digits
are white ink on black, scaled here to [0, 1] like the model's training data.

:func:`load_image` decodes untrusted bytes (PNG or JPEG only, size checked
before any pixel is decoded) into grey levels; :func:`to_mnist` frames them as
MNIST did; :func:`preprocess` does both. Pure NumPy, Pillow and SciPy: no
Streamlit, no TensorFlow.

Transparency: a drawing exported by most tools is either opaque (e.g. our own
canvas: white ink on black) or ink on a transparent background, where the
transparent pixels' colour is meaningless (often black, so "black ink on
transparent" would be all black if alpha were dropped). So where an image has
any transparency, it is composited onto the background that contrasts with its
opaque pixels: onto white when the opaque (ink) pixels are dark on average, onto
black when they are light. Either way :func:`to_mnist` then sees ink on a plain
background and makes it white on black.
"""

from __future__ import annotations

import io
import math
import struct
from collections.abc import Callable

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from vaeapp.core.config import IMAGE_SIDE, N_PIXELS

# A picture's file size: the uploader is told MAX_MB (Streamlit's megabyte is
# 2**20 bytes), so that it refuses what this check would, and says so.
MAX_MB = 10
MAX_BYTES = MAX_MB * 2**20
MAX_PIXELS = 4_000_000  # width * height, checked from the header before decoding
ALLOWED_FORMATS = ("PNG", "JPEG")
DIGIT_BOX = 20  # MNIST fits each digit into a 20x20 box ...
CENTRE = IMAGE_SIDE / 2  # ... and puts its centre of mass at (14, 14)
INK_THRESHOLD = 0.1  # fraction of the strongest ink that counts as ink
MIN_CONTRAST = 0.05  # ink must stand this far above the background (of 1.0)
NOISE_SIGMAS = 4.0  # a noisy background's level + 4 sigma is subtracted as 0
SPECK_FRACTION = 0.01  # in noisy images, ink blobs this small (of the largest)
# are noise, not part of the digit
FAINT = 0.5 / 255  # output values that would round to 0 as 8-bit pixels
EXIF_ORIENTATION = 0x0112  # the tag: how to turn the stored pixels to show them


class ImageError(ValueError):
    """An uploaded or drawn image cannot be used: the message says why."""


def load_image(
    data: bytes, convert: Callable[[Image.Image], np.ndarray] | None = None
) -> np.ndarray:
    """Decode PNG or JPEG ``data`` -> grey levels ``(H, W)`` float32 in [0, 1]
    (or what ``convert`` makes of the checked, upright Pillow image).

    0 is black, 1 white. Images larger than :data:`MAX_PIXELS` are refused from
    their header, before decoding. Colour is reduced to luminance (ITU-R 601-2),
    16-bit grey is scaled from 0..65535, palette and bilevel images are expanded,
    CMYK is converted to RGB, an EXIF orientation is applied, and transparency
    is composited onto a contrasting background (see the module docstring).

    Raises ImageError for empty input, input over :data:`MAX_BYTES`, anything
    that is not a complete PNG or JPEG file, and images that are too large.
    """
    convert = convert or _grey_levels
    if not isinstance(data, (bytes, bytearray, memoryview)):
        raise ImageError(f"expected image file bytes, got {type(data).__name__}")
    if len(data) == 0:
        raise ImageError("the file is empty: upload a PNG or JPEG image")
    if len(data) > MAX_BYTES:
        raise ImageError(
            f"the file is {len(data):,} bytes; at most {MAX_BYTES:,} are allowed"
        )
    # Pillow warns (DecompressionBombWarning) from 89M pixels and refuses from
    # twice that at open; MAX_PIXELS is far below, so any image that would warn
    # is refused here from its header. The warning is not turned into an error
    # with warnings.catch_warnings, which is not thread-safe (Streamlit serves
    # sessions from threads); it is caught in case a deployment makes it one.
    try:
        image = Image.open(io.BytesIO(bytes(data)), formats=ALLOWED_FORMATS)
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise ImageError(_too_large_message()) from None
    except UnidentifiedImageError:
        raise ImageError(
            "the file is not a PNG or JPEG image (only PNG and JPEG are allowed)"
        ) from None
    except (OSError, ValueError, SyntaxError, EOFError) as error:
        raise ImageError(f"the image file is damaged: {_one_line(error)}") from None
    with image:
        width, height = image.size
        if width < 1 or height < 1:
            raise ImageError(f"the image is {width}x{height} pixels: it is empty")
        if width * height > MAX_PIXELS:
            raise ImageError(_too_large_message(width, height))
        try:
            image.load()
            return convert(upright(image))
        except (Image.DecompressionBombError, Image.DecompressionBombWarning):
            raise ImageError(_too_large_message(width, height)) from None
        except (OSError, ValueError, SyntaxError, EOFError) as error:
            raise ImageError(
                f"the image file is damaged or truncated: {_one_line(error)}"
            ) from None


def fit_picture(data: bytes, image_shape: tuple[int, ...]) -> np.ndarray:
    """PNG or JPEG bytes -> one image of ``image_shape`` ``(h, w, c)``, flat
    ``(h * w * c,)`` float32 in [0, 1], prepared as training prepared a data
    set's images (:mod:`vaeapp.data.sources`): transparent parts black, grey or RGB,
    scaled (Lanczos) to cover ``h`` x ``w`` keeping its aspect ratio, and
    centre-cropped. Raises ImageError as :func:`load_image` does."""
    height, width, channels = image_shape

    def fitted(image: Image.Image) -> np.ndarray:
        if "A" in image.getbands() or "transparency" in image.info:
            rgba = image.convert("RGBA")
            image = Image.new("RGB", rgba.size)
            image.paste(rgba, mask=rgba.getchannel("A"))
        image = image.convert("L" if channels == 1 else "RGB")
        image = ImageOps.fit(image, (width, height), Image.Resampling.LANCZOS)
        return (np.asarray(image, np.float32) / np.float32(255)).reshape(-1)

    return load_image(data, fitted)


def _one_line(error: BaseException) -> str:
    lines = str(error).strip().splitlines()
    return lines[0] if lines else type(error).__name__


def upright(image: Image.Image) -> Image.Image:
    """``image`` turned as its EXIF orientation says a viewer shows it (a phone
    photo is stored sideways with orientation 6); ``image`` itself when it has
    no orientation to apply or its EXIF is unreadable. Call after ``load()``:
    a PNG may keep its EXIF after the pixels. Shared by uploaded pictures and
    image folders, so both see the same picture."""
    try:
        if image.getexif().get(EXIF_ORIENTATION, 1) == 1:
            return image  # nothing to turn: spare exif_transpose's full copy
        return ImageOps.exif_transpose(image)
    except (OSError, ValueError, KeyError, TypeError, SyntaxError, struct.error):
        return image


def _too_large_message(width: int | None = None, height: int | None = None) -> str:
    size = f"{width}x{height} pixels" if width else "too large to decode"
    return (
        f"the image is {size}; at most {MAX_PIXELS:,} pixels "
        "(e.g. 2000x2000) are allowed"
    )


def _grey_levels(image: Image.Image) -> np.ndarray:
    """A decoded Pillow image of any mode -> ``(H, W)`` float32 in [0, 1]."""
    mode = image.mode
    if mode in ("I;16", "I;16L", "I;16B", "I;16N", "I"):
        values = np.asarray(image, dtype=np.float32) / np.float32(65535)
        return np.clip(values, 0.0, 1.0)
    if mode == "F":
        values = np.nan_to_num(np.asarray(image, dtype=np.float32), nan=0.0)
        return np.clip(values, 0.0, 1.0)
    has_alpha = "A" in image.getbands() or "transparency" in image.info
    if not has_alpha:
        if mode not in ("L", "RGB"):
            image = image.convert("RGB")  # '1', 'P', 'CMYK', 'YCbCr', 'LAB', ...
        return _unit(image.convert("L"))
    rgba = image.convert("RGBA")
    luminance = _unit(rgba.convert("L"))
    alpha = _unit(rgba.getchannel("A"))
    if alpha.min() >= 1.0:
        return luminance
    weight = float(alpha.sum())
    ink = float((alpha * luminance).sum()) / weight if weight > 0 else 0.0
    background = 1.0 if ink < 0.5 else 0.0
    return (alpha * luminance + (1.0 - alpha) * background).astype(np.float32)


def _unit(image: Image.Image) -> np.ndarray:
    """An 8-bit single-band image -> float32 in [0, 1]."""
    return np.asarray(image, dtype=np.float32) / np.float32(255)


def to_mnist(gray: np.ndarray) -> np.ndarray:
    """Grey levels ``(H, W)`` in [0, 1] -> an MNIST-style digit ``(784,)`` float32.

    The result is white ink on black (the input is inverted when the median of
    its border pixels is light); the border's median level is taken as the
    background and subtracted (with 4 sigma of its noise, estimated from the
    border's median absolute deviation; in noisy images, ink specks under 1% of
    the largest ink blob are dropped), and contrast stretched so the background
    is 0 and the strongest ink 1. The bounding box of the ink (pixels above
    :data:`INK_THRESHOLD` of the strongest) is
    scaled to fit 20x20 keeping its aspect ratio (longest side 20) and placed so
    its centre of mass is within half a pixel of (14, 14), as in MNIST. Ink that
    such a shift moves beyond the 28x28 field is cut off, as in MNIST.

    Raises ImageError if ``gray`` is not a finite 2-D array or holds no ink.
    """
    values = np.asarray(gray, dtype=np.float32)
    if values.ndim != 2 or values.size == 0:
        raise ImageError(f"expected a 2-D grey-level image, got shape {values.shape}")
    if not np.isfinite(values).all():
        raise ImageError("the image holds NaN or infinite values")
    values = np.clip(values, 0.0, 1.0)
    if np.median(_border(values)) > 0.5:
        values = 1.0 - values  # dark ink on a light background
    border = _border(values)
    level = np.median(border)
    noise = NOISE_SIGMAS * 1.4826 * float(np.median(np.abs(border - level)))
    values = np.clip(values - (level + noise), 0.0, None)
    peak = float(values.max())
    if peak < MIN_CONTRAST:
        raise ImageError(
            "no digit found: the image is blank (draw or upload a digit that "
            "contrasts with its background)"
        )
    values /= peak
    ink = values > INK_THRESHOLD
    if noise > 0:  # a noisy photo: single noise pixels must not widen the box
        specks = ink & ~_without_specks(ink)
        values[specks] = 0.0
        ink &= ~specks
    rows = np.flatnonzero(ink.any(axis=1))
    cols = np.flatnonzero(ink.any(axis=0))
    crop = values[rows[0] : rows[-1] + 1, cols[0] : cols[-1] + 1]
    patch = _fit_box(crop.astype(np.float32), DIGIT_BOX)
    field = _place_centred(patch, IMAGE_SIDE)
    peak = float(field.max())
    if peak <= 0.0:
        raise ImageError("no digit found after framing the image")
    field = np.clip(field / peak, 0.0, 1.0)
    field[field < FAINT] = 0.0  # residue an 8-bit MNIST pixel rounds to 0
    return field.astype(np.float32).reshape(N_PIXELS)


def _without_specks(ink: np.ndarray) -> np.ndarray:
    """``ink`` ``(H, W)`` bool without blobs under SPECK_FRACTION of the largest."""
    from scipy import ndimage  # only when a digit is drawn: keeps the page start fast

    labels, count = ndimage.label(ink, structure=np.ones((3, 3), dtype=bool))
    if count <= 1:
        return ink
    sizes = np.bincount(labels.ravel())
    sizes[0] = 0
    keep = sizes >= SPECK_FRACTION * sizes.max()
    keep[0] = False
    return keep[labels]


def _border(values: np.ndarray) -> np.ndarray:
    """The outermost rows and columns of a 2-D array, flattened."""
    return np.concatenate(
        [values[0], values[-1], values[1:-1, 0], values[1:-1, -1]], axis=None
    )


def _fit_box(crop: np.ndarray, box: int) -> np.ndarray:
    """Scale ``crop`` ``(h, w)`` so its longer side is ``box`` -> ``(h', w')``.

    Pillow's bilinear filter widens with the reduction (an anti-aliased,
    area-weighted average) and, unlike Lanczos, never rings around strokes.
    """
    height, width = crop.shape
    scale = box / max(height, width)
    size = (
        min(box, max(1, round(width * scale))),
        min(box, max(1, round(height * scale))),
    )
    resized = Image.fromarray(crop).resize(size, Image.Resampling.BILINEAR)
    return np.clip(np.asarray(resized, dtype=np.float32), 0.0, 1.0)


def _place_centred(patch: np.ndarray, side: int) -> np.ndarray:
    """Paste ``patch`` into a ``(side, side)`` zero field, shifted by whole
    pixels so its centre of mass is as near ``(side / 2, side / 2)`` as can be."""
    from scipy import ndimage  # only when a digit is drawn: keeps the page start fast

    cy, cx = ndimage.center_of_mass(patch)
    if not (math.isfinite(cy) and math.isfinite(cx)):
        cy, cx = (patch.shape[0] - 1) / 2, (patch.shape[1] - 1) / 2
    top, left = round(side / 2 - cy), round(side / 2 - cx)
    field = np.zeros((side, side), dtype=np.float32)
    y0, x0 = max(top, 0), max(left, 0)
    y1 = min(top + patch.shape[0], side)
    x1 = min(left + patch.shape[1], side)
    if y1 > y0 and x1 > x0:
        field[y0:y1, x0:x1] = patch[y0 - top : y1 - top, x0 - left : x1 - left]
    return field


def preprocess(data: bytes) -> np.ndarray:
    """PNG or JPEG bytes -> an MNIST-style digit ``(784,)`` float32 in [0, 1].

    ``to_mnist(load_image(data))``; raises ImageError with a one-line reason.
    """
    return to_mnist(load_image(data))


def posterior_ellipse(
    mean2: np.ndarray, log_var2: np.ndarray, k: float = 2.0, points: int = 64
) -> np.ndarray:
    """Outline of the ``k``-sigma ellipse of a diagonal Gaussian in 2 dimensions.

    ``mean2`` and ``log_var2`` are ``(2,)``: the posterior's mean and log
    variance in the two shown latent dimensions. Returns ``(points, 2)`` float64
    points ``p`` with ``sum(((p - mean2) / sigma) ** 2) == k ** 2``, where
    ``sigma = exp(log_var2 / 2)``; the first and last points coincide, so the
    outline draws as a closed line. Raises ValueError for bad shapes or values.
    """
    mean = np.asarray(mean2, dtype=np.float64)
    log_var = np.asarray(log_var2, dtype=np.float64)
    if mean.shape != (2,) or log_var.shape != (2,):
        raise ValueError(
            f"mean2 and log_var2 must have shape (2,); got {mean.shape} and "
            f"{log_var.shape}"
        )
    if not (np.isfinite(mean).all() and np.isfinite(log_var).all()):
        raise ValueError("mean2 and log_var2 must be finite")
    try:
        k = float(k)
    except (TypeError, ValueError):
        raise ValueError(f"k must be a positive finite number; got {k!r}") from None
    if not (math.isfinite(k) and k > 0):
        raise ValueError(f"k must be a positive finite number; got {k!r}")
    if not isinstance(points, int) or isinstance(points, bool) or points < 3:
        raise ValueError(f"points must be an integer of at least 3; got {points!r}")
    with np.errstate(over="ignore"):
        sigma = np.exp(0.5 * log_var)
    if not np.isfinite(sigma).all():
        raise ValueError("log_var2 is too large: the ellipse is unbounded")
    angle = np.linspace(0.0, 2.0 * np.pi, points)
    circle = np.stack([np.cos(angle), np.sin(angle)], axis=1)
    return mean + k * sigma * circle
