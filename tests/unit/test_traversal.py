"""Animated traversals: axis sweeps, decoded frames and their GIF."""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image

from vaeapp.explore.analysis import interpolate
from vaeapp.explore.images import digit_image
from vaeapp.explore.traversal import axis_sweep, decoded_frames, gif_bytes
from vaeapp.store.format import PRETRAINED_DIR
from vaeapp.store.reading import load_model


@pytest.fixture(scope="module")
def tutorial():
    return load_model(PRETRAINED_DIR / "mnist-tutorial")


def _gif_frames(data: bytes) -> list[np.ndarray]:
    """Every frame of a GIF, composited, as grey arrays."""
    image = Image.open(io.BytesIO(data))
    out = []
    for k in range(image.n_frames):
        image.seek(k)
        out.append(np.asarray(image.convert("L")))
    return out


def test_axis_sweep_moves_one_dimension_from_minus_three_to_three() -> None:
    """Axis sweep moves one dimension from minus three to three."""
    z = np.array([0.5, -1.0, 2.0, 0.25], np.float32)
    points = axis_sweep(z, 2, frames=13)
    assert points.shape == (13, 4) and points.dtype == np.float32
    np.testing.assert_allclose(points[:, 2], np.linspace(-3, 3, 13), atol=1e-6)
    for other in (0, 1, 3):
        assert (points[:, other] == z[other]).all()


@pytest.mark.parametrize("dim", [-1, 4, 1.0, True])
def test_axis_sweep_refuses_a_dimension_outside_z(dim: object) -> None:
    """Axis sweep refuses a dimension outside z."""
    with pytest.raises(ValueError, match="dim"):
        axis_sweep(np.zeros(4), dim)  # type: ignore[arg-type]


@pytest.mark.parametrize("frames", [4, 62])
def test_axis_sweep_refuses_frame_counts_out_of_range(frames: int) -> None:
    """Axis sweep refuses frame counts out of range."""
    with pytest.raises(ValueError, match="frames"):
        axis_sweep(np.zeros(2), 0, frames)


def test_sweep_frames_end_at_the_decodes_of_the_endpoints(tutorial) -> None:
    """First and last frames are the images decoded at z with the swept
    dimension at -3 and at +3, upscaled as the page's images are."""
    z = np.array([0.4, -0.7], np.float32)
    points = axis_sweep(z, 0, frames=9)
    frames = decoded_frames(tutorial.vae, points, tutorial.image_shape, 3)
    assert frames.shape == (9, 84, 84) and frames.dtype == np.uint8
    for frame, end in ((frames[0], -3.0), (frames[-1], 3.0)):
        pixels = tutorial.vae.decode(np.array([[end, -0.7]], np.float32))[0]
        np.testing.assert_array_equal(
            frame, digit_image(pixels, 3, tutorial.image_shape)
        )


def test_interpolation_gif_has_a_frame_per_step_and_keeps_its_ends(tutorial) -> None:
    """A GIF of an interpolation between two test digits: one frame per step,
    the first and last exactly the endpoints' decodes (grey stays exact)."""
    start, end = tutorial.latent_mean[0], tutorial.latent_mean[1]
    points = interpolate(start, end, 10)
    frames = decoded_frames(tutorial.vae, points, tutorial.image_shape, 2)
    decoded = _gif_frames(gif_bytes(frames))
    assert len(decoded) == 10
    for shown, at in ((decoded[0], start), (decoded[-1], end)):
        pixels = tutorial.vae.decode(at[None])[0]
        np.testing.assert_array_equal(shown, digit_image(pixels, 2))


def test_bounced_gif_plays_forward_then_back() -> None:
    """k frames bounced: 2k - 2 frames, the way back in reverse order."""
    rng = np.random.default_rng(0)
    frames = rng.integers(0, 256, (5, 8, 8), dtype=np.uint8)
    decoded = _gif_frames(gif_bytes(frames, bounce=True))
    order = [0, 1, 2, 3, 4, 3, 2, 1]
    assert len(decoded) == len(order)
    for shown, k in zip(decoded, order, strict=True):
        np.testing.assert_array_equal(shown, frames[k])


def test_colour_gif_decodes_to_its_frame_count() -> None:
    """Colour gif decodes to its frame count."""
    rng = np.random.default_rng(1)
    frames = rng.integers(0, 256, (6, 10, 12, 3), dtype=np.uint8)
    image = Image.open(io.BytesIO(gif_bytes(frames, frame_ms=80)))
    assert image.n_frames == 6 and image.size == (12, 10)
    assert image.info["duration"] == 80 and image.info["loop"] == 0


@pytest.mark.parametrize(
    "frames",
    [
        np.zeros((3, 4, 4), np.float32),
        np.zeros((3, 4), np.uint8),
        np.zeros((3, 4, 4, 4), np.uint8),
        np.zeros((0, 4, 4), np.uint8),
    ],
)
def test_gif_refuses_frames_of_other_kinds(frames: np.ndarray) -> None:
    """Gif refuses frames of other kinds."""
    with pytest.raises(ValueError):
        gif_bytes(frames)
