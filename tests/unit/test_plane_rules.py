"""The rules between a stored (UMAP) plane and z: map -> z for a click and
the live decode under the pointer, z -> map for the z marker, both by inverse
distance weighting of the nearest stored points, and the anchors a large set
keeps (vaeapp.explore.projection; the browser's twin is plane_rules.js,
tested equal in tests/browser/test_plane_rules_js.py)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from vaeapp.explore import projection
from vaeapp.explore.projection import (
    StoredPlane,
    anchor_rows,
    plane_click_to_z,
    weighted_mean,
)


def _plane() -> StoredPlane:
    points = np.array([[0.0, 0.0], [10.0, 0.0], [0.0, 10.0], [10.0, 10.0]])
    means = np.array([[1.0, 0.0, 0.0], [0.0, 1.0, 0.0], [0.0, 0.0, 1.0], [1.0, 1, 1]])
    return StoredPlane(points.astype(np.float32), means.astype(np.float32), "umap")


def _idw(values: np.ndarray, distances: np.ndarray) -> np.ndarray:
    weights = 1.0 / np.square(distances)
    return (weights[:, None] * values).sum(0) / weights.sum()


def test_a_click_on_empty_space_selects_the_weighted_mean_of_the_nearest() -> None:
    """Far from every point, the inverse-distance-weighted mean (1/d^2) of
    the k nearest points' latents, nearest first and named."""
    plane = _plane()
    z, said = plane_click_to_z(plane, [3.0, 1.0], k=3)
    rows = [0, 1, 2]  # at distances sqrt(10), sqrt(50), sqrt(90)
    distances = np.hypot(*(plane.points[rows] - [3.0, 1.0]).T)
    np.testing.assert_allclose(z, _idw(plane.means[rows], distances), rtol=1e-12)
    assert said == (
        "the distance-weighted mean of the 3 nearest test images (#0, #1, #2)"
    )


def test_the_weighted_mean_leans_to_the_nearer_point() -> None:
    """Nearer points weigh more: a click at a quarter of the way from point
    0 to point 1 gets 9/10 of point 0's latent (weights 1/d^2: 16 against
    16/9)."""
    z, _ = plane_click_to_z(_plane(), [2.5, 0.0], k=2)
    np.testing.assert_allclose(z, [0.9, 0.1, 0.0], rtol=1e-12)


def test_the_marker_of_a_stored_mean_is_its_point() -> None:
    """z -> map: every stored mean has its stored point; one z equal to a
    stored mean too."""
    plane = _plane()
    np.testing.assert_array_equal(plane.coords(plane.means), plane.points)
    np.testing.assert_array_equal(plane.coords(plane.means[2]), plane.points[2])


def test_the_marker_of_another_z_is_the_weighted_position_of_its_neighbours() -> None:
    """z -> map: the 1/d^2 weighted mean of the map points of the k latents
    nearest z."""
    plane = _plane()
    z = np.array([0.9, 0.1, 0.0])
    distances = np.linalg.norm(plane.means.astype(np.float64) - z, axis=1)
    rows = np.argsort(distances)[:3]
    expected = _idw(plane.points[rows].astype(np.float64), distances[rows])
    np.testing.assert_allclose(plane.coords(z, k=3), expected, rtol=1e-12)
    assert plane.coords(np.zeros((2, 3)), k=2).shape == (2, 2)


def test_a_click_and_the_marker_go_round_on_a_stored_point() -> None:
    """A click on a stored point selects its mean, whose marker is that point."""
    plane = _plane()
    z, _ = plane_click_to_z(plane, plane.points[3])
    np.testing.assert_array_equal(plane.coords(z), plane.points[3])


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.tuples(st.floats(-1e3, 1e3), st.floats(-1e3, 1e3), st.floats(1e-3, 1e3)),
        min_size=1,
        max_size=6,
    )
)
def test_a_weighted_mean_lies_within_its_values(rows: list) -> None:
    """Whatever the values and distances, the weighted mean lies between the
    smallest and largest value of each column."""
    values = np.array([[a, b] for a, b, _ in rows])
    squared = np.array([d for *_, d in rows])
    mean = weighted_mean(values, squared)
    span = 1e-9 * (1 + np.abs(values).max())
    assert np.all(mean >= values.min(0) - span) and np.all(mean <= values.max(0) + span)


def test_a_large_set_keeps_evenly_spaced_anchors(monkeypatch) -> None:
    """Above ANCHORS_MAX points the rules read ANCHORS_MAX of them, evenly
    spaced from the first to the last; a click names the real row."""
    assert anchor_rows(projection.ANCHORS_MAX) is None
    monkeypatch.setattr(projection, "ANCHORS_MAX", 4)
    rows = anchor_rows(10)
    np.testing.assert_array_equal(rows, [0, 3, 6, 9])
    points = np.stack([np.arange(10.0), np.zeros(10)], 1).astype(np.float32)
    means = np.eye(10, dtype=np.float32)
    plane = StoredPlane(points, means, "umap")
    z, said = plane_click_to_z(plane, [6.0, 0.0])
    assert said == "test image #6"
    np.testing.assert_array_equal(z, means[6])
    # Row 5 is no anchor: the click between anchors 3 and 6 weighs them.
    z, said = plane_click_to_z(plane, [5.0, 0.0], k=2)
    assert said.endswith("(#6, #3)")
    np.testing.assert_allclose(z[[3, 6]], [0.2, 0.8])


@pytest.mark.parametrize("xy", [[np.nan, 0.0], [1.0], [np.inf, 1.0]])
def test_a_forged_click_is_refused(xy: list) -> None:
    """A click that is not two finite numbers raises ValueError."""
    with pytest.raises(ValueError, match="two finite numbers"):
        plane_click_to_z(_plane(), xy)
