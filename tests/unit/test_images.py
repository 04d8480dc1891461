"""Pictures for the page and downloads: shapes, upscaling, PNG modes and the
error picture, for grey and colour images of any size."""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image

from vaeapp.explore.images import (
    LUMA,
    digit_image,
    error_image,
    image_array,
    png_bytes,
    to_uint8,
    upscale,
)


def test_to_uint8_rounds_clips_and_shows_nan_as_black():
    """Values map to round(255 v), clipped to 0..255; NaN becomes 0."""
    got = to_uint8(np.array([[0.0, 0.5, 1.0], [-1.0, 2.0, np.nan]]))
    np.testing.assert_array_equal(got, [[0, 128, 255], [0, 255, 0]])
    assert got.dtype == np.uint8


@pytest.mark.parametrize(
    ("shape", "picture"),
    [((28, 28, 1), (28, 28)), ((16, 24, 1), (16, 24)), ((20, 12, 3), (20, 12, 3))],
)
def test_image_array_gives_grey_2d_and_colour_3d(shape, picture):
    """A flat image becomes (H, W) when grey and (H, W, 3) when colour, in
    channels-last reading order."""
    flat = np.arange(np.prod(shape))
    got = image_array(flat, shape)
    assert got.shape == picture
    np.testing.assert_array_equal(got.reshape(-1), flat)
    if shape[2] == 3:
        assert got[0, 1].tolist() == [3, 4, 5]  # pixel (0, 1): its R, G, B


def test_image_array_refuses_a_wrong_value_count():
    """Values that do not fill the image shape raise ValueError saying so."""
    with pytest.raises(ValueError, match="32x32x3 has 3072 values, got 1024"):
        image_array(np.zeros(1024), (32, 32, 3))


@pytest.mark.parametrize("shape", [(28, 28, 1), (8, 12, 3)])
def test_digit_image_upscales_without_blur(shape):
    """digit_image repeats each pixel scale x scale times, channels kept."""
    rng = np.random.default_rng(0)
    pixels = rng.random(int(np.prod(shape))).astype(np.float32)
    got = digit_image(pixels, 3, image_shape=shape)
    h, w, c = shape
    assert got.shape == ((h * 3, w * 3) if c == 1 else (h * 3, w * 3, 3))
    small = to_uint8(image_array(pixels, shape))
    np.testing.assert_array_equal(got[::3, ::3], small)
    np.testing.assert_array_equal(got[2::3, 1::3], small)


def test_upscale_keeps_colour_channels():
    """upscale of (H, W, 3) repeats along height and width only."""
    image = np.arange(12, dtype=np.uint8).reshape(2, 2, 3)
    got = upscale(image, 2)
    assert got.shape == (4, 4, 3)
    np.testing.assert_array_equal(got[3, 3], image[1, 1])


@pytest.mark.parametrize(("shape", "mode"), [((5, 7), "L"), ((5, 7, 3), "RGB")])
def test_png_bytes_writes_grey_as_l_and_colour_as_rgb(shape, mode):
    """A 2-D picture is a grey PNG, (h, w, 3) an RGB one; both read back equal."""
    picture = np.random.default_rng(1).integers(0, 256, shape, dtype=np.uint8)
    image = Image.open(io.BytesIO(png_bytes(picture)))
    assert image.mode == mode and image.size == (7, 5)
    np.testing.assert_array_equal(np.asarray(image), picture)


def test_png_bytes_refuses_other_shapes():
    """A picture with 2 or 4 channels raises ValueError naming the shapes allowed."""
    with pytest.raises(ValueError, match=r"\(h, w\) grey or \(h, w, 3\) RGB"):
        png_bytes(np.zeros((4, 4, 4), np.uint8))


def test_grey_error_image_is_red_too_bright_blue_too_dark_white_equal():
    """Grey errors: +1 is pure red, -1 pure blue, 0 white, 0.5 half-faded red."""
    error = np.zeros(784, np.float32)
    error[:4] = [1.0, -1.0, 0.5, np.nan]
    got = error_image(error, scale=2)
    assert got.shape == (56, 56, 3)
    assert got[0, 0].tolist() == [255, 0, 0]
    assert got[0, 2].tolist() == [0, 0, 255]
    assert got[0, 4].tolist() == [255, 128, 128]
    assert got[0, 6].tolist() == got[0, 8].tolist() == [255, 255, 255]


def test_colour_error_image_shows_the_brightness_error():
    """Colour errors are weighted by luma: all channels +0.5 shows like a grey +0.5;
    a hue change at equal brightness shows white; green weighs most."""
    shape = (2, 2, 3)
    error = np.zeros(shape, np.float32)
    error[0, 0] = 0.5  # brighter in every channel
    error[0, 1] = [LUMA[1], -LUMA[0], 0.0]  # redder and less green, same brightness
    error[1, 0] = [0.0, -1.0, 0.0]  # darker green
    error[1, 1] = [0.0, 0.0, -1.0]  # darker blue
    got = error_image(error.reshape(-1), scale=1, image_shape=shape)
    assert got.shape == (2, 2, 3)
    assert got[0, 0].tolist() == [255, 128, 128]
    assert got[0, 1].tolist() == [255, 255, 255]
    assert got[1, 0, 2] == 255 and got[1, 1, 2] == 255  # both blue: too dark
    assert got[1, 0, 0] < got[1, 1, 0]  # green's error is the stronger one
