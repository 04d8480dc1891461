"""The map's plane: two latent dimensions or the first two principal components."""

from __future__ import annotations

import numpy as np
import pytest

from vaeapp.data.preprocess import posterior_ellipse
from vaeapp.explore.projection import axes_plane, pca_plane


def test_axes_plane_shows_the_chosen_dimensions() -> None:
    """Coordinates are z[dims]; lifting replaces those two entries only."""
    plane = axes_plane(4, (2, 0))
    z = np.array([0.5, -1.0, 2.0, 3.0])
    np.testing.assert_allclose(plane.coords(z), [2.0, 0.5])
    np.testing.assert_allclose(plane.lift([1.0, -2.0], z), [-2.0, -1.0, 1.0, 3.0])
    assert plane.titles == ("z3", "z1")


@pytest.mark.parametrize("dims", [(0, 0), (0, 4), (-1, 1)])
def test_axes_plane_refuses_bad_dimensions(dims: tuple[int, int]) -> None:
    """Equal or out-of-range dimensions raise ValueError."""
    with pytest.raises(ValueError, match="two different numbers"):
        axes_plane(4, dims)


def test_pca_plane_finds_the_directions_of_largest_variance() -> None:
    """Points spread along a known direction give it as PC1, with its share."""
    rng = np.random.default_rng(0)
    direction = np.array([3.0, 4.0, 0.0, 0.0]) / 5.0
    second = np.array([0.0, 0.0, 1.0, 0.0])
    points = (
        rng.normal(size=(2000, 1)) * 3.0 * direction
        + rng.normal(size=(2000, 1)) * 1.0 * second
        + rng.normal(size=(2000, 4)) * 0.01
        + 7.0
    )
    plane = pca_plane(points)
    assert abs(plane.u @ direction) == pytest.approx(1.0, abs=1e-3)
    assert abs(plane.v @ second) == pytest.approx(1.0, abs=1e-3)
    assert plane.u @ plane.v == pytest.approx(0.0, abs=1e-9)
    assert plane.titles[0].startswith("PC1 (90%")
    np.testing.assert_allclose(plane.coords(points).mean(axis=0), 0.0, atol=1e-9)


def test_lift_moves_within_the_plane_and_keeps_the_rest() -> None:
    """A lifted point lands on the clicked coordinates; its off-plane part is kept."""
    rng = np.random.default_rng(1)
    plane = pca_plane(rng.normal(size=(500, 6)) * np.arange(1, 7))
    z = rng.normal(size=6)
    lifted = plane.lift([0.7, -1.3], z)
    np.testing.assert_allclose(plane.coords(lifted), [0.7, -1.3], atol=1e-12)
    off = np.eye(6) - plane.basis @ plane.basis.T
    np.testing.assert_allclose(off @ lifted, off @ z, atol=1e-12)


def test_ellipse_on_an_axes_plane_matches_the_diagonal_outline() -> None:
    """On two latent axes the projected ellipse is the posterior's own 2-sigma one."""
    mean, log_var = np.array([0.3, -0.2, 1.0]), np.array([-1.0, 0.5, 0.0])
    outline = axes_plane(3, (0, 1)).ellipse(mean, log_var, k=2.0, points=200)
    sigma = np.exp(0.5 * log_var[:2])
    radius = np.sum(((outline - mean[:2]) / sigma) ** 2, axis=1)
    np.testing.assert_allclose(radius, 4.0, rtol=1e-9)
    reference = posterior_ellipse(mean[:2], log_var[:2], k=2.0, points=200)
    assert np.ptp(outline, axis=0) == pytest.approx(np.ptp(reference, axis=0))
