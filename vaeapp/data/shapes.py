"""A generated data set of coloured shapes whose true factors are known.

Like dSprites and 3D Shapes in the beta-VAE papers: every image is drawn from
five factors sampled independently with a fixed seed, so a latent space can be
compared with what really varies. Each image is one shape on a black
background, ``side`` x ``side`` RGB uint8 (32 x 32 by default).

The factors, in the order of :data:`FACTORS`, one float32 row per image:

``shape``
    index into :data:`SHAPE_NAMES`, stored as a whole number (0.0, 1.0, ...).
``x``, ``y``
    the shape's centre of mass in pixels from the image's left and top edges,
    continuous: pixel (row ``r``, column ``c``) covers ``[c, c + 1] x [r, r + 1]``,
    so its centre is ``(c + 0.5, r + 0.5)``.
``size``
    in pixels: the circle's diameter, the square's side, the triangle's base and
    height, the cross's width and height (arms ``size / 3`` thick).
``hue``
    in [0, 1), the colour's HSV hue at saturation :data:`SATURATION` and value
    :data:`VALUE`.

Each factor is uniform over the range :func:`factor_ranges` gives, and the
ranges of ``x`` and ``y`` do not depend on ``size`` or ``shape``: they are those
that keep the largest shape of any kind at least :data:`BORDER` pixels from
every edge. So the five factors are independent, and no pixel of the outermost
ring of any image is lit.

Edges are anti-aliased by exact or near-exact area coverage computed in NumPy
for a batch of images at once (no per-image drawing calls): a pixel's colour is
the shape's colour times the fraction of the pixel the shape covers.

Nothing here runs at import time.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

FACTORS: tuple[str, ...] = ("shape", "x", "y", "size", "hue")
SHAPE_NAMES: tuple[str, ...] = ("circle", "square", "triangle", "cross")

# Fixed so that hue is the only colour factor; high enough for vivid colours on
# the black background.
SATURATION = 0.9
VALUE = 1.0
# Sizes as fractions of the image side: 8 to 14.4 pixels at 32 x 32, so the
# smallest cross still has arms over 2.5 pixels thick.
SIZE_FRACTION = (0.25, 0.45)
# Pixels between the largest shape and every edge: a 1-pixel dark frame.
BORDER = 1.0
# The cross's arm thickness as a fraction of its size.
CROSS_ARM = 1.0 / 3.0
MIN_SIDE = 8
# Images rendered per batch: bounds the float32 temporaries to a few tens of MB.
_CHUNK = 2048

# Area of each shape as a fraction of size**2, in SHAPE_NAMES order.
AREA_FRACTION: tuple[float, ...] = (
    math.pi / 4,
    1.0,
    0.5,
    2 * CROSS_ARM - CROSS_ARM**2,
)


def factor_ranges(side: int = 32) -> dict[str, tuple[float, float]]:
    """The closed range each factor is sampled from, in the units above.

    ``shape`` is ``(0, len(SHAPE_NAMES) - 1)``; ``hue`` is ``(0, 1)`` with 1
    itself never drawn.
    """
    _check_side(side)
    small, large = (fraction * side for fraction in SIZE_FRACTION)
    # The triangle reaches 2/3 of its size above its centre of mass and half
    # of it to the sides and below; the other shapes reach half of it all round.
    half = large / 2
    return {
        "shape": (0.0, float(len(SHAPE_NAMES) - 1)),
        "x": (BORDER + half, side - BORDER - half),
        "y": (BORDER + 2 * large / 3, side - BORDER - half),
        "size": (small, large),
        "hue": (0.0, 1.0),
    }


def sample_factors(count: int, seed: int, side: int = 32) -> np.ndarray:
    """``(count, 5)`` float32 factors, columns as in :data:`FACTORS`.

    One ``(count, 5)`` block of uniforms is drawn row by row, so the first
    ``n`` rows for a seed are the same whatever ``count`` is.
    """
    if count < 0:
        raise ValueError(f"count must be at least 0; got {count}")
    if seed < 0:
        raise ValueError(f"seed must be at least 0; got {seed}")
    ranges = factor_ranges(side)
    uniform = np.random.default_rng(seed).random((count, len(FACTORS)))
    factors = np.empty((count, len(FACTORS)), dtype=np.float32)
    factors[:, 0] = np.floor(uniform[:, 0] * len(SHAPE_NAMES))
    for column, name in enumerate(FACTORS[1:], start=1):
        low, high = ranges[name]
        factors[:, column] = low + uniform[:, column] * (high - low)
    # A uniform just below 1 rounds to 1.0 in float32; keep hue in [0, 1).
    below_one = np.float32(1) - np.finfo(np.float32).epsneg
    factors[:, 4] = np.minimum(factors[:, 4], below_one)
    return factors


def generate(count: int, seed: int, side: int = 32) -> tuple[np.ndarray, np.ndarray]:
    """``count`` images ``(count, side, side, 3)`` uint8 and their factors.

    The factors are ``(count, 5)`` float32 from :func:`sample_factors`; the
    same ``(count, seed, side)`` gives the same images bit for bit.
    """
    factors = sample_factors(count, seed, side)
    return render(factors, side), factors


def render(factors: np.ndarray, side: int = 32) -> np.ndarray:
    """Draw ``(n, 5)`` factors as ``(n, side, side, 3)`` uint8 images.

    Any finite position and positive size is drawn (a shape may then leave the
    image); only :func:`sample_factors` keeps shapes inside.
    """
    _check_side(side)
    factors = np.asarray(factors, dtype=np.float32)
    if factors.ndim != 2 or factors.shape[1] != len(FACTORS):
        raise ValueError(f"factors must be (n, {len(FACTORS)}); got {factors.shape}")
    if not np.isfinite(factors).all():
        raise ValueError("factors must be finite")
    shape = factors[:, 0]
    if ((shape != np.round(shape)) | (shape < 0) | (shape >= len(SHAPE_NAMES))).any():
        raise ValueError(f"shape must be a whole number in 0..{len(SHAPE_NAMES) - 1}")
    if (factors[:, 3] <= 0).any():
        raise ValueError("size must be positive")
    images = np.zeros((factors.shape[0], side, side, 3), dtype=np.uint8)
    pixels = images.reshape(-1, 3)
    for start in range(0, factors.shape[0], _CHUNK):
        chunk = factors[start : start + _CHUNK]
        colour = hue_to_rgb(chunk[:, 4]) * np.float32(255)
        cover = coverage(chunk, side).reshape(-1)
        # A shape covers a tenth or so of its image: colouring only the covered
        # pixels saves most of the float work of a dense (n, side, side, 3) pass.
        covered = np.flatnonzero(cover)
        lit = cover[covered, None] * colour[covered // (side * side)]
        # Non-negative, so adding 0.5 and truncating on assignment rounds.
        pixels[covered + start * side * side] = lit + np.float32(0.5)
    return images


def coverage(factors: np.ndarray, side: int = 32) -> np.ndarray:
    """``(n, side, side)`` float32 in [0, 1]: how much of each pixel is shape."""
    factors = np.asarray(factors, dtype=np.float32)
    result = np.empty((factors.shape[0], side, side), dtype=np.float32)
    centres = np.arange(side, dtype=np.float32) + np.float32(0.5)
    for index, draw in enumerate(_DRAWERS):
        rows = np.flatnonzero(factors[:, 0] == index)
        if rows.size == 0:
            continue
        x, y, size = (factors[rows, column][:, None, None] for column in (1, 2, 3))
        # dx varies along columns, dy along rows; broadcasting makes (k, side, side).
        dx = centres[None, None, :] - x
        dy = centres[None, :, None] - y
        result[rows] = draw(dx, dy, size)
    return result


def hue_to_rgb(hue: np.ndarray) -> np.ndarray:
    """``(n,)`` hues in [0, 1) to ``(n, 3)`` float32 RGB in [0, 1].

    At :data:`SATURATION` and :data:`VALUE`; the same as ``colorsys.hsv_to_rgb``.
    """
    hue = np.asarray(hue, dtype=np.float32)
    # The closed form f(n) = V - V S max(0, min(k, 4 - k, 1)), k = (n + 6 h) mod 6,
    # with n = 5, 3, 1 for red, green, blue: no branching on the hue's sector.
    k = (np.array([5, 3, 1], dtype=np.float32) + 6 * hue[:, None]) % 6
    ramp = np.clip(np.minimum(k, 4 - k), 0, 1)
    return (VALUE - VALUE * SATURATION * ramp).astype(np.float32)


def _ramp(signed_distance: np.ndarray) -> np.ndarray:
    """Coverage of a pixel whose centre is ``signed_distance`` outside an edge.

    Exact for a straight axis-aligned edge, and unbiased in total area for any
    straight edge; it rounds sharp corners by under half a pixel.
    """
    return np.clip(np.float32(0.5) - signed_distance, 0, 1)


def _interval(d: np.ndarray, half: np.ndarray) -> np.ndarray:
    """Overlap of a unit pixel at offset ``d`` with ``[-half, half]``.

    Exact when ``half >= 0.5``, so rectangles are exact as products of two.
    """
    return _ramp(np.abs(d) - half)


def _circle(dx: np.ndarray, dy: np.ndarray, size: np.ndarray) -> np.ndarray:
    return _ramp(np.sqrt(dx * dx + dy * dy) - size / 2)


def _square(dx: np.ndarray, dy: np.ndarray, size: np.ndarray) -> np.ndarray:
    return _interval(dx, size / 2) * _interval(dy, size / 2)


def _cross(dx: np.ndarray, dy: np.ndarray, size: np.ndarray) -> np.ndarray:
    # Union of a horizontal and a vertical bar: add both, remove the centre
    # square counted twice. Each term is exact, so the sum is too.
    long_x, long_y = _interval(dx, size / 2), _interval(dy, size / 2)
    arm = size * np.float32(CROSS_ARM / 2)
    thin_x, thin_y = _interval(dx, arm), _interval(dy, arm)
    return long_x * thin_y + thin_x * long_y - thin_x * thin_y


def _triangle(dx: np.ndarray, dy: np.ndarray, size: np.ndarray) -> np.ndarray:
    """Point-up isosceles triangle, base and height ``size``, centroid at 0.

    Its exact signed distance, so the apex bleeds no further than half a pixel
    (a max of half-plane distances would reach past it and into the border).
    """
    px = np.abs(dx)  # symmetric about the vertical axis: one slanted edge will do
    top, base = -2 * size / 3, size / 3
    # Slanted edge from the apex (0, top) to the corner (size / 2, base).
    ex, ey = size / 2, size
    wx, wy = px, dy - top
    t = np.clip((wx * ex + wy * ey) / (ex * ex + ey * ey), 0, 1)
    slant = (wx - t * ex) ** 2 + (wy - t * ey) ** 2
    # The base from (0, base) to (size / 2, base).
    beyond = np.maximum(px - size / 2, 0)
    flat = beyond * beyond + (dy - base) ** 2
    distance = np.sqrt(np.minimum(slant, flat))
    inside = (dy <= base) & (2 * px <= wy)
    return _ramp(np.where(inside, -distance, distance))


_DRAWERS: tuple[Callable[[np.ndarray, np.ndarray, np.ndarray], np.ndarray], ...] = (
    _circle,
    _square,
    _triangle,
    _cross,
)


def _check_side(side: int) -> None:
    if side < MIN_SIDE:
        raise ValueError(f"side must be at least {MIN_SIDE}; got {side}")


def split_seeds(seed: int) -> tuple[int, int]:
    """The generator seeds of the training and test sets of ``seed``.

    ``2 seed`` and ``2 seed + 1``: distinct for every pair of (seed, split), so
    no two sets from :func:`load_shapes`, of any seeds, share a generator.
    """
    if seed < 0:
        raise ValueError(f"seed must be at least 0; got {seed}")
    return 2 * seed, 2 * seed + 1


@dataclass(frozen=True)
class ShapesData:
    """Images ``(n, side, side, 3)`` uint8, labels ``(n,)`` uint8 shape indices.

    ``factors_train`` and ``factors_test`` are ``(n, 5)`` float32 as in
    :data:`FACTORS`; their column 0 equals the labels.
    """

    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    factors_train: np.ndarray
    factors_test: np.ndarray
    class_names: tuple[str, ...] = SHAPE_NAMES

    def arrays(self) -> dict[str, np.ndarray]:
        """Everything as plain arrays for ``np.savez``; loads without pickle."""
        return {
            "x_train": self.x_train,
            "y_train": self.y_train,
            "x_test": self.x_test,
            "y_test": self.y_test,
            "factors_train": self.factors_train,
            "factors_test": self.factors_test,
            "class_names": np.array(self.class_names, dtype=str),
            "factor_names": np.array(FACTORS, dtype=str),
        }


def load_shapes(
    seed: int = 0, n_train: int = 60_000, n_test: int = 10_000, side: int = 32
) -> ShapesData:
    """A training and a test set drawn with the seeds :func:`split_seeds` gives.

    70,000 images at 32 x 32 take about 1 s on 2 cores (``bench/shapes_speed.py``).
    """
    train_seed, test_seed = split_seeds(seed)
    x_train, factors_train = generate(n_train, train_seed, side)
    x_test, factors_test = generate(n_test, test_seed, side)
    return ShapesData(
        x_train=x_train,
        y_train=factors_train[:, 0].astype(np.uint8),
        x_test=x_test,
        y_test=factors_test[:, 0].astype(np.uint8),
        factors_train=factors_train,
        factors_test=factors_test,
    )
