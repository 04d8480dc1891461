"""The manifold grid: axis coordinates, latent points, tiling and checks."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy.stats import norm

from vaeapp.explore.manifold import check_grid, grid_axis, grid_points, manifold, tile


@pytest.mark.parametrize(("n", "q"), [(2, 0.05), (15, 0.05), (30, 0.001), (7, 0.49)])
def test_quantile_axis_is_gaussian_quantiles(n, q):
    """The quantile axis equals norm.ppf(linspace(q, 1 - q, n)), as float32."""
    axis = grid_axis(n, q)
    assert axis.dtype == np.float32 and axis.shape == (n,)
    np.testing.assert_allclose(
        axis, norm.ppf(np.linspace(q, 1 - q, n)), rtol=1e-6, atol=1e-6
    )
    assert np.all(np.diff(axis) > 0)


def test_linear_axis_spans_the_same_end_points():
    """The linear axis is evenly spaced between the quantile axis's end points."""
    n, q = 9, 0.05
    axis = grid_axis(n, q, "linear")
    edge = norm.ppf(1 - q)
    np.testing.assert_allclose(axis, np.linspace(-edge, edge, n), rtol=1e-6)
    np.testing.assert_allclose(axis[[0, -1]], grid_axis(n, q)[[0, -1]], rtol=1e-6)


def test_grid_points_default_is_2d_rows_top_to_bottom():
    """Default points are (n*n, 2): x increases along a row, y decreases down rows."""
    n, q = 4, 0.1
    axis = grid_axis(n, q)
    points = grid_points(n, q)
    assert points.shape == (n * n, 2) and points.dtype == np.float32
    for i in range(n):
        for j in range(n):
            np.testing.assert_array_equal(points[i * n + j], [axis[j], axis[n - 1 - i]])


def test_grid_points_keep_base_values_in_other_dimensions():
    """With a base vector only the two chosen dims vary; others keep base values."""
    n, q = 3, 0.05
    base = np.array([0.5, -1.25, 2.0, 3.5, -0.75], np.float32)
    points = grid_points(n, q, base=base, dims=(3, 1))
    axis = grid_axis(n, q)
    assert points.shape == (n * n, 5)
    np.testing.assert_array_equal(
        points[:, [0, 2, 4]], np.tile(base[[0, 2, 4]], (n * n, 1))
    )
    np.testing.assert_array_equal(points[:, 3], np.tile(axis, n))
    np.testing.assert_array_equal(points[:, 1], np.repeat(axis[::-1], n))


def test_tile_places_image_k_at_row_k_div_n_column_k_mod_n():
    """tile() puts image i*n+j in the 28x28 block at block-row i, block-column j."""
    n = 3
    rng = np.random.default_rng(1)
    images = rng.random((n * n, 784))
    picture = tile(images, n)
    assert picture.shape == (n * 28, n * 28) and picture.dtype == np.uint8
    expected = np.rint(images * 255).astype(np.uint8).reshape(n * n, 28, 28)
    for i in range(n):
        for j in range(n):
            block = picture[i * 28 : (i + 1) * 28, j * 28 : (j + 1) * 28]
            np.testing.assert_array_equal(block, expected[i * n + j])


def test_tile_clips_to_byte_range():
    """Values below 0 or above 1 are clipped to 0 and 255."""
    images = np.concatenate([np.full((2, 784), -0.5), np.full((2, 784), 1.5)])
    picture = tile(images, 2)
    assert picture[:28].max() == 0 and picture[28:].min() == 255


def test_manifold_decodes_each_grid_point_once():
    """manifold() decodes the whole grid in one call and tiles the result."""
    n, q = 3, 0.05
    calls = []

    def decode(z):
        calls.append(z.copy())
        return np.repeat(np.linspace(0, 1, z.shape[0])[:, None], 784, axis=1)

    picture = manifold(decode, n=n, q=q)
    assert len(calls) == 1
    np.testing.assert_array_equal(calls[0], grid_points(n, q))
    assert picture.shape == (n * 28, n * 28)
    assert picture[0, 0] == 0 and picture[-1, -1] == 255


@pytest.mark.parametrize("n", [0, 1, -3, 31, 10**6, 2.0, True, "5", None])
def test_check_grid_refuses_bad_sizes(n):
    """Grid sizes that are not whole numbers from 2 to 30 raise ValueError."""
    with pytest.raises(
        ValueError, match="grid size n must be a whole number from 2 to 30"
    ):
        check_grid(n, 0.05)


@pytest.mark.parametrize("q", [0, 0.0, 0.5, -0.1, 1.0, math.nan, math.inf, "0.1", None])
def test_check_grid_refuses_bad_quantiles(q):
    """Quantiles not strictly between 0 and 0.5 (or not numbers) raise ValueError."""
    with pytest.raises(
        ValueError, match="quantile q must be strictly between 0 and 0.5"
    ):
        check_grid(5, q)


def test_check_grid_refuses_unknown_spacing():
    """Only quantile and linear spacing are accepted."""
    with pytest.raises(ValueError, match="spacing must be one of quantile, linear"):
        check_grid(5, 0.05, "log")


@pytest.mark.parametrize(
    ("n", "q"), [(2, 0.05), (30, 0.05), (np.int64(10), 0.25), (5, 1e-9)]
)
def test_check_grid_accepts_valid_settings(n, q):
    """Valid sizes and quantiles pass check_grid and give an axis of n points."""
    check_grid(n, q)
    assert grid_axis(n, q).shape == (int(n),)
    assert np.isfinite(grid_axis(n, q)).all()


def test_grid_axis_checks_its_arguments():
    """grid_axis itself refuses bad settings (it calls check_grid)."""
    with pytest.raises(ValueError):
        grid_axis(1, 0.05)
    with pytest.raises(ValueError):
        grid_points(5, 0.5)


@pytest.mark.parametrize("shape", [(32, 32, 3), (20, 12, 3), (16, 24, 1)])
def test_tile_places_images_of_any_shape(shape):
    """tile() puts image i*n+j at block (i, j) for any H x W x C; grey stays 2-D."""
    n, (h, w, c) = 3, shape
    images = np.random.default_rng(2).random((n * n, h * w * c))
    picture = tile(images, n, image_shape=shape)
    expected = np.rint(images * 255).astype(np.uint8).reshape(n * n, h, w, c)
    assert picture.dtype == np.uint8
    assert picture.shape == ((n * h, n * w, 3) if c == 3 else (n * h, n * w))
    for i in range(n):
        for j in range(n):
            block = picture[i * h : (i + 1) * h, j * w : (j + 1) * w]
            np.testing.assert_array_equal(
                block, expected[i * n + j] if c == 3 else expected[i * n + j, ..., 0]
            )
    shaped = tile(images.reshape(n * n, h, w, c), n, image_shape=shape)
    np.testing.assert_array_equal(shaped, picture)


def test_manifold_tiles_colour_images_of_the_given_shape():
    """manifold() with a colour image_shape gives an (n*H, n*W, 3) RGB picture."""
    n, shape = 4, (8, 12, 3)
    red = np.zeros(shape, np.float32)
    red[..., 0] = 1.0

    def decode(z):
        return np.repeat(red.reshape(1, -1), z.shape[0], axis=0)

    picture = manifold(decode, n=n, image_shape=shape)
    assert picture.shape == (n * 8, n * 12, 3)
    assert (picture[..., 0] == 255).all() and (picture[..., 1:] == 0).all()
