"""The range of z a model's views span: the prior's ±4 or wider where its
encoded test set lies, never narrower than its data (up to the cap)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from vaeapp.core.latent import Z_LIMIT, Z_LIMIT_MAX, clean_z, extent, outside
from vaeapp.explore.manifold import DATA_SPACING, grid_axes, grid_points

means = arrays(
    np.float32,
    st.tuples(st.integers(0, 40), st.integers(1, 4)),
    elements=st.floats(-1e6, 1e6, width=32) | st.just(np.nan),
)


@given(means)
def test_extent_covers_the_data_up_to_the_cap(points: np.ndarray) -> None:
    """extent() is at least ±4, at most the cap, and leaves no finite point
    within the cap outside it."""
    limit = extent(points)
    assert Z_LIMIT <= limit <= Z_LIMIT_MAX
    finite = np.abs(points[np.isfinite(points)])
    assert not (finite[finite <= Z_LIMIT_MAX] > limit).any()


def test_outside_counts_the_rows_a_map_cannot_show() -> None:
    """A row is outside when any coordinate is beyond the limit or not finite."""
    points = np.array([[1.0, 2.0], [70.0, 0.0], [0.0, np.nan], [-64.0, 64.0]])
    assert outside(points, Z_LIMIT_MAX) == 2


def test_clean_z_clamps_to_the_given_range() -> None:
    """clean_z keeps values within a model's wider range and clamps beyond it."""
    assert clean_z([7.5, -6.0], 2, 8.0) == ([7.5, -6.0], None)
    z, message = clean_z([9.0, 0.0], 2, 8.0)
    assert z == [8.0, 0.0] and "outside +-8" in message


def test_data_spacing_takes_each_axis_from_its_dimension() -> None:
    """The data spacing's x and y axes are the quantiles of the two chosen
    dimensions; grid points lie on them, rows with y decreasing."""
    rng = np.random.default_rng(0)
    data = np.stack([rng.normal(3, 1, 500), rng.normal(0, 5, 500)], axis=1)
    xs, ys = grid_axes(5, 0.1, DATA_SPACING, data, (1, 0))
    np.testing.assert_allclose(xs, np.quantile(data[:, 1], np.linspace(0.1, 0.9, 5)))
    np.testing.assert_allclose(ys, np.quantile(data[:, 0], np.linspace(0.1, 0.9, 5)))
    points = grid_points(5, 0.1, DATA_SPACING, dims=(1, 0), means=data)
    assert points[0, 1] == pytest.approx(xs[0]) and points[0, 0] == pytest.approx(
        ys[-1]
    )


def test_data_spacing_without_the_data_is_refused() -> None:
    """The data spacing needs the encoded test set; without it, a ValueError."""
    with pytest.raises(ValueError, match="encoded test set"):
        grid_axes(5, 0.1, DATA_SPACING)
