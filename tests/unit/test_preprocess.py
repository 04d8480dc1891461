"""Tests of vaeapp.data.preprocess (a user's image -> MNIST-style input) and of the
drawing pad's data-URL check."""

from __future__ import annotations

import base64
import io
import struct
import zlib
from pathlib import Path

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from PIL import Image, ImageDraw
from scipy import ndimage

from vaeapp.data.preprocess import (
    MAX_PIXELS,
    ImageError,
    load_image,
    posterior_ellipse,
    preprocess,
    to_mnist,
)
from vaeapp.ui.components.draw_pad import MAX_DRAWING_BYTES, drawing_bytes

REPO_ROOT = Path(__file__).resolve().parents[2]
MNIST_NPZ = REPO_ROOT.parent / "shared" / "data" / "mnist.npz"


# ---------------------------------------------------------------- helpers


def encode(image: Image.Image, fmt: str = "PNG", **options) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format=fmt, **options)
    return buffer.getvalue()


def seven(ink: int = 0, paper: int = 255, size: tuple[int, int] = (60, 100)):
    """A 60 wide x 100 tall 'L' image of a thick-stroked '7'."""
    image = Image.new("L", size, paper)
    draw = ImageDraw.Draw(image)
    w, h = size
    draw.line([(0.15 * w, 0.15 * h), (0.85 * w, 0.15 * h)], fill=ink, width=9)
    draw.line([(0.85 * w, 0.15 * h), (0.35 * w, 0.85 * h)], fill=ink, width=9)
    return image


def ink_box(digit: np.ndarray) -> tuple[int, int]:
    """Rows and columns spanned by non-zero pixels of a (784,) digit."""
    grid = digit.reshape(28, 28) > 0
    rows, cols = np.flatnonzero(grid.any(axis=1)), np.flatnonzero(grid.any(axis=0))
    return rows[-1] - rows[0] + 1, cols[-1] - cols[0] + 1


def correlation(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.corrcoef(a.ravel(), b.ravel())[0, 1])


def png_chunk(kind: bytes, body: bytes) -> bytes:
    crc = zlib.crc32(kind + body) & 0xFFFFFFFF
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", crc)


def crafted_png(width: int, height: int, extra: bytes = b"") -> bytes:
    """A PNG whose header claims ``width x height`` grey pixels (no real data)."""
    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + png_chunk(b"IHDR", header)
        + extra
        + png_chunk(b"IDAT", zlib.compress(b"\x00" * 16))
        + png_chunk(b"IEND", b"")
    )


@pytest.fixture(scope="module")
def reference() -> np.ndarray:
    """The '7' as an opaque black-on-white PNG, preprocessed."""
    return preprocess(encode(seven()))


# ---------------------------------------------------------------- framing


def test_digit_fits_the_20_pixel_box(reference: np.ndarray) -> None:
    """The ink spans at most 20x20 pixels and its longer side is 20 (+-1)."""
    rows, cols = ink_box(reference)
    assert rows <= 20 and cols <= 20
    assert abs(max(rows, cols) - 20) <= 1
    assert cols < rows  # the 60x100 aspect ratio is kept, not stretched


def test_centre_of_mass_is_the_field_centre(reference: np.ndarray) -> None:
    """The digit's centre of mass is within half a pixel of (14, 14), as MNIST."""
    cy, cx = ndimage.center_of_mass(reference.reshape(28, 28))
    assert abs(cy - 14) <= 0.5 and abs(cx - 14) <= 0.5


def test_values_are_mnist_scaled(reference: np.ndarray) -> None:
    """Output is (784,) float32 in [0, 1], strongest ink 1, background 0."""
    assert reference.shape == (784,) and reference.dtype == np.float32
    assert reference.min() == 0.0 and reference.max() == 1.0
    grid = reference.reshape(28, 28)
    near_ink = ndimage.binary_dilation(grid > 0.5, iterations=3)
    assert not grid[~near_ink].any()  # no resampling halo: background exactly 0
    assert (reference == 0).mean() > 0.5  # mostly background, like MNIST


def test_black_on_white_and_white_on_black_agree(reference: np.ndarray) -> None:
    """Dark ink on paper and light ink on black give the same digit."""
    inverted = preprocess(encode(seven(ink=255, paper=0)))
    np.testing.assert_allclose(inverted, reference, atol=1e-6)


def test_light_grey_paper_is_subtracted(reference: np.ndarray) -> None:
    """A photo-like grey paper and grey ink still give a clean digit."""
    digit = preprocess(encode(seven(ink=90, paper=200)))
    assert digit.max() == 1.0 and digit.reshape(28, 28)[:3].max() == 0.0
    assert correlation(digit, reference) > 0.98


def test_noisy_photo_is_framed_by_its_digit() -> None:
    """Sensor noise on grey paper neither widens the box nor leaves speckle."""
    clean = seven(ink=60, paper=200, size=(300, 500))
    paper = np.asarray(clean, np.float64)
    noisy = paper + np.random.default_rng(2).normal(0.0, 12.0, paper.shape)
    photo = Image.fromarray(np.uint8(np.clip(noisy, 0, 255))).convert("RGB")
    digit = preprocess(encode(photo, "JPEG", quality=90))
    rows, cols = ink_box(digit)
    assert abs(max(rows, cols) - 20) <= 1 and cols < rows
    grid = digit.reshape(28, 28)
    assert not grid[~ndimage.binary_dilation(grid > 0.5, iterations=3)].any()
    assert correlation(digit, preprocess(encode(clean))) > 0.9


def test_upscaled_mnist_style_digit_is_reproduced(reference: np.ndarray) -> None:
    """An MNIST-framed digit drawn 10x larger comes back as nearly itself."""
    big = Image.fromarray(np.uint8(255 - 255 * reference.reshape(28, 28)))
    big = big.resize((280, 280), Image.Resampling.BILINEAR)
    again = preprocess(encode(big))
    assert correlation(again, reference) > 0.9
    cy, cx = ndimage.center_of_mass(again.reshape(28, 28))
    assert abs(cy - 14) <= 0.5 and abs(cx - 14) <= 0.5


@pytest.mark.skipif(not MNIST_NPZ.is_file(), reason="no local MNIST copy")
def test_real_mnist_digits_survive_a_round_trip() -> None:
    """Real MNIST test digits, upscaled and inverted, preprocess back to themselves."""
    with np.load(MNIST_NPZ) as npz:
        digits = npz["x_test"][:50].astype(np.float32) / 255
    scores = []
    for digit in digits:
        paper = Image.fromarray(np.uint8(255 - 255 * digit))
        paper = paper.resize((280, 280), Image.Resampling.BILINEAR)
        scores.append(correlation(preprocess(encode(paper)), digit))
    assert np.mean(scores) > 0.9 and min(scores) > 0.5


# ---------------------------------------------------------------- image modes


def _modes(image: Image.Image) -> dict[str, bytes]:
    """The '7' (black on white) in every mode and format a user might send."""
    rgba_dark = Image.new("RGBA", image.size, (0, 0, 0, 0))  # transparent *black*
    rgba_dark.putalpha(Image.eval(image, lambda v: 255 - v))  # ink is opaque black
    rgba_light = Image.new("RGBA", image.size, (255, 255, 255, 0))
    rgba_light.putalpha(Image.eval(image, lambda v: 255 - v))  # opaque white ink
    grey16 = Image.fromarray(np.asarray(image, np.uint16) * 257)
    palette = image.convert("RGB").convert("P", palette=Image.Palette.ADAPTIVE)
    ink = (np.asarray(image) < 128).astype(np.uint8)  # index 1 ink, 0 paper
    palette_transparent = Image.frombytes("P", image.size, ink.tobytes())
    palette_transparent.putpalette([0, 0, 0, 0, 0, 0])  # both black; paper clear
    return {
        "RGB": encode(image.convert("RGB")),
        "RGBA black ink on transparent": encode(rgba_dark),
        "RGBA white ink on transparent": encode(rgba_light),
        "LA": encode(rgba_dark.convert("LA")),
        "I;16": encode(grey16),
        "P": encode(palette),
        "P with transparency": encode(palette_transparent, transparency=0),
        "1": encode(image.point(lambda v: 255 if v > 127 else 0).convert("1")),
        "JPEG L": encode(image, "JPEG", quality=95),
        "JPEG RGB": encode(image.convert("RGB"), "JPEG", quality=95),
        "JPEG CMYK": encode(image.convert("RGB").convert("CMYK"), "JPEG", quality=95),
    }


MODE_NAMES = list(_modes(seven()))


@pytest.mark.parametrize("name", MODE_NAMES)
def test_every_mode_loads_as_the_same_digit(name: str, reference: np.ndarray) -> None:
    """RGBA, LA, 16-bit, palette, bilevel and CMYK files give the same '7'."""
    data = _modes(seven())[name]
    gray = load_image(data)
    assert gray.shape == (100, 60) and gray.dtype == np.float32
    assert 0.0 <= gray.min() and gray.max() <= 1.0
    assert correlation(to_mnist(gray), reference) > 0.95


def test_sixteen_bit_png_is_read_as_sixteen_bit() -> None:
    """A 16-bit grey PNG is scaled from 0..65535, keeping its fine levels."""
    levels = np.array([[0, 1000, 65535]], dtype=np.uint16)
    data = encode(Image.fromarray(levels))
    assert Image.open(io.BytesIO(data)).mode == "I;16"
    np.testing.assert_allclose(load_image(data), levels / 65535, rtol=1e-6)


def test_exif_orientation_is_applied() -> None:
    """A JPEG rotated by its EXIF tag is turned upright before framing."""
    upright = seven()
    turned = upright.transpose(Image.Transpose.ROTATE_90)  # 100 wide, 60 tall
    exif = Image.Exif()
    exif[0x0112] = 6  # "rotate 90 clockwise to display"
    gray = load_image(encode(turned, "JPEG", quality=95, exif=exif.tobytes()))
    assert gray.shape == (100, 60)


# ---------------------------------------------------------------- refusals


def _refused(data: object, *words: str) -> str:
    with pytest.raises(ImageError) as info:
        preprocess(data)  # type: ignore[arg-type]
    message = str(info.value)
    assert "\n" not in message and message
    for word in words:
        assert word in message.lower(), message
    return message


def test_empty_input_is_refused() -> None:
    """Zero bytes are refused, saying the file is empty."""
    _refused(b"", "empty")


def test_non_bytes_are_refused() -> None:
    """A string instead of file bytes is refused."""
    _refused("data:image/png;base64,", "bytes")


def test_random_bytes_are_refused() -> None:
    """Random bytes are refused as not a PNG or JPEG."""
    _refused(np.random.default_rng(0).bytes(5000), "png", "jpeg")


def test_text_file_is_refused() -> None:
    """A text file is refused as not a PNG or JPEG."""
    _refused(b"just some text\nnot an image\n" * 20, "png", "jpeg")


@pytest.mark.parametrize("fmt", ["GIF", "BMP", "TIFF", "WEBP"])
def test_other_image_formats_are_refused(fmt: str) -> None:
    """Real images in formats other than PNG and JPEG are refused."""
    _refused(encode(seven().convert("RGB"), fmt), "only png and jpeg")


@pytest.mark.parametrize("fmt", ["PNG", "JPEG"])
def test_truncated_file_is_refused(fmt: str) -> None:
    """A PNG or JPEG cut short is refused as damaged, not half-decoded."""
    noise = np.random.default_rng(1).integers(0, 256, (200, 200), dtype=np.uint8)
    data = encode(Image.fromarray(noise), fmt)
    _refused(data[: len(data) // 2], "damaged")


@pytest.mark.filterwarnings("ignore::PIL.Image.DecompressionBombWarning")
def test_huge_image_is_refused_before_decoding(monkeypatch) -> None:
    """A real 10,000x10,000 PNG is refused from its header: no pixel decoded."""
    data = encode(Image.new("1", (10_000, 10_000)))
    assert len(data) < 100_000  # tiny file, huge image: a decompression bomb

    def no_decoding(self):  # pragma: no cover - must not run
        raise AssertionError("pixels were decoded")

    monkeypatch.setattr(Image.Image, "load", no_decoding)
    monkeypatch.setattr("PIL.ImageFile.ImageFile.load", no_decoding)
    _refused(data, "pixels")


def test_image_just_over_the_limit_is_refused() -> None:
    """An image of MAX_PIXELS + 1 pixels (under Pillow's own limit) is refused."""
    _refused(crafted_png(MAX_PIXELS + 1, 1), "4,000,000")


def test_decompression_bomb_header_is_refused() -> None:
    """A 50,000x50,000 header (Pillow raises DecompressionBombError) is refused."""
    _refused(crafted_png(50_000, 50_000), "too large")


def test_compressed_text_bomb_is_refused() -> None:
    """A PNG with a huge zlib-compressed text chunk is refused, not inflated."""
    body = b"comment\x00\x00" + zlib.compress(b"\x00" * 50_000_000, 9)
    data = crafted_png(4, 4, png_chunk(b"zTXt", body))
    assert len(data) < 200_000
    _refused(data)


@pytest.mark.parametrize("level", [0, 128, 255])
def test_image_without_ink_is_refused(level: int) -> None:
    """All-black, all-grey and all-white images hold no digit and are refused."""
    _refused(encode(Image.new("L", (50, 50), level)), "no digit")


def test_fully_transparent_image_is_refused() -> None:
    """An image that is transparent everywhere holds no digit."""
    _refused(encode(Image.new("RGBA", (40, 40), (0, 0, 0, 0))), "no digit")


@pytest.mark.parametrize(
    "gray", [np.zeros((3, 4, 3)), np.zeros((0, 5)), np.full((5, 5), np.nan)]
)
def test_to_mnist_refuses_bad_arrays(gray: np.ndarray) -> None:
    """Not 2-D, empty or NaN arrays are refused with ImageError."""
    with pytest.raises(ImageError):
        to_mnist(gray)


# ---------------------------------------------------------------- properties

small_images = hnp.arrays(
    np.float64,
    st.tuples(st.integers(1, 40), st.integers(1, 40)),
    elements=st.floats(0.0, 1.0),
)


@st.composite
def inked_images(draw) -> np.ndarray:
    """Dark arrays (background 0 to 0.04) with ink pixels inside the border."""
    h, w = draw(st.integers(3, 48)), draw(st.integers(3, 48))
    gray = draw(hnp.arrays(np.float64, (h, w), elements=st.floats(0.0, 0.04)))
    inner = (h - 2, w - 2)
    ink = draw(hnp.arrays(np.float64, inner, elements=st.floats(0.3, 1.0)))
    mask = draw(hnp.arrays(np.bool_, inner))
    mask[draw(st.integers(0, h - 3)), draw(st.integers(0, w - 3))] = True
    gray[1:-1, 1:-1] = np.where(mask, ink, gray[1:-1, 1:-1])
    return gray


@given(inked_images())
@settings(max_examples=200, deadline=None)
def test_to_mnist_output_is_always_mnist_shaped(gray: np.ndarray) -> None:
    """Any array with some ink gives (784,) finite values in [0, 1], max 1."""
    digit = to_mnist(gray)
    assert digit.shape == (784,) and digit.dtype == np.float32
    assert np.isfinite(digit).all()
    assert digit.min() >= 0.0 and digit.max() == 1.0
    rows, cols = ink_box(digit)
    assert rows <= 20 and cols <= 20


@given(small_images)
@settings(max_examples=200, deadline=None)
def test_to_mnist_never_fails_otherwise(gray: np.ndarray) -> None:
    """Any array in [0, 1] gives a valid digit or an ImageError, nothing else."""
    try:
        digit = to_mnist(gray)
    except ImageError:
        return
    assert digit.shape == (784,) and np.isfinite(digit).all()
    assert 0.0 <= digit.min() and digit.max() == 1.0


@given(inked_images())
@settings(max_examples=100, deadline=None)
def test_inverting_the_input_changes_nothing(gray: np.ndarray) -> None:
    """An array and its negative (ink dark on light) give the same digit, up to a
    one-pixel centring tie when the centre of mass falls on a half pixel."""
    border = np.concatenate([gray[0], gray[-1], gray[:, 0], gray[:, -1]])
    assume(abs(np.median(border) - 0.5) > 1e-9)
    a, b = to_mnist(1.0 - gray), to_mnist(gray)
    np.testing.assert_allclose(np.sort(a), np.sort(b), atol=1e-5)
    shifts = [
        np.roll(np.roll(a.reshape(28, 28), dy, 0), dx, 1).ravel()
        for dy in (-1, 0, 1)
        for dx in (-1, 0, 1)
    ]
    assert min(np.abs(s - b).max() for s in shifts) < 1e-5


finite = st.floats(-5.0, 5.0)


@given(
    st.tuples(finite, finite),
    st.tuples(st.floats(-8.0, 4.0), st.floats(-8.0, 4.0)),
    st.floats(0.1, 5.0),
    st.integers(3, 200),
)
@settings(max_examples=200, deadline=None)
def test_ellipse_points_lie_on_the_ellipse(mean, log_var, k, points) -> None:
    """Every outline point satisfies sum(((p - m) / sigma)^2) == k^2; it closes."""
    outline = posterior_ellipse(np.array(mean), np.array(log_var), k, points)
    assert outline.shape == (points, 2)
    sigma = np.exp(0.5 * np.array(log_var))
    radius2 = (((outline - np.array(mean)) / sigma) ** 2).sum(axis=1)
    np.testing.assert_allclose(radius2, k**2, rtol=1e-9)
    np.testing.assert_allclose(outline[0], outline[-1], atol=1e-12)


def test_ellipse_spans_k_sigma_on_each_axis() -> None:
    """The 2-sigma outline of N((1, -2), diag(4, 0.25)) spans x 1+-4, y -2+-1."""
    outline = posterior_ellipse(np.array([1.0, -2.0]), np.log([4.0, 0.25]))
    np.testing.assert_allclose(outline[:, 0].min(), -3.0, atol=0.02)
    np.testing.assert_allclose(outline[:, 0].max(), 5.0, atol=1e-9)
    np.testing.assert_allclose(outline[:, 1].min(), -3.0, atol=0.01)
    np.testing.assert_allclose(outline[:, 1].max(), -1.0, atol=0.01)


@pytest.mark.parametrize(
    "mean, log_var, k, points",
    [
        (np.zeros(3), np.zeros(2), 2.0, 64),
        (np.zeros(2), np.array([np.nan, 0.0]), 2.0, 64),
        (np.zeros(2), np.array([2000.0, 0.0]), 2.0, 64),
        (np.zeros(2), np.zeros(2), -1.0, 64),
        (np.zeros(2), np.zeros(2), 2.0, 2),
    ],
)
def test_ellipse_refuses_bad_arguments(mean, log_var, k, points) -> None:
    """Wrong shapes, non-finite values, k <= 0 and too few points are refused."""
    with pytest.raises(ValueError):
        posterior_ellipse(mean, log_var, k, points)


# ---------------------------------------------------------------- the model


def test_shipped_model_encodes_a_preprocessed_digit(reference: np.ndarray) -> None:
    """The shipped model encodes the preprocessed '7' to a finite posterior."""
    from vaeapp.store.listing import best_pretrained
    from vaeapp.store.reading import load_model

    model = load_model(best_pretrained())
    mean, log_var = model.vae.encode(reference[None])
    assert mean.shape == (1, 2) and log_var.shape == (1, 2)
    assert np.isfinite(mean).all() and np.isfinite(log_var).all()
    outline = posterior_ellipse(mean[0], log_var[0])
    assert outline.shape == (64, 2) and np.isfinite(outline).all()
    reconstruction = model.vae.decode(mean)
    assert reconstruction.shape == (1, 784)
    assert correlation(reconstruction, reference) > 0.5  # it looks like a digit


# ---------------------------------------------------------------- drawing pad


def _data_url(data: bytes) -> str:
    return "data:image/png;base64," + base64.b64encode(data).decode()


def test_drawing_bytes_decodes_a_png_data_url() -> None:
    """A pad's PNG data URL decodes to the same PNG bytes, which preprocess."""
    png = encode(seven(ink=255, paper=0))
    assert drawing_bytes(_data_url(png)) == png
    assert preprocess(drawing_bytes(_data_url(png))).max() == 1.0


@pytest.mark.parametrize(
    "value",
    [
        None,
        b"data:image/png;base64,",
        "data:image/jpeg;base64," + base64.b64encode(b"\xff\xd8\xff").decode(),
        "data:image/png;base64,not base64!",
        "data:image/png;base64,é",
        _data_url(b"GIF89a not a png"),
        _data_url(b"\x89PNG\r\n\x1a\n" + b"\x00" * (MAX_DRAWING_BYTES + 1)),
    ],
)
def test_drawing_bytes_refuses_anything_else(value: object) -> None:
    """Non-strings, other prefixes, bad base64, non-PNG and oversize are refused."""
    with pytest.raises(ImageError):
        drawing_bytes(value)
