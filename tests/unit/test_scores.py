"""k-nearest-neighbour accuracy of a map, on small constructed cases."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from vaeapp.scores import knn_accuracy


def test_knn_accuracy_of_two_far_clusters_is_one():
    """Two well-separated clusters of six points each: every vote is right."""
    left = np.array([[0, 0], [0, 1], [1, 0], [1, 1], [0.5, 0.5], [0, 0.5]])
    points = np.concatenate([left, left + 100])
    labels = np.repeat([0, 1], 6)
    assert knn_accuracy(points, labels) == 1.0


def test_knn_accuracy_counts_a_planted_outlier_as_wrong():
    """A point labelled 1 inside a cluster of 0s is outvoted; the 0s around it
    still have a majority of 0s among their five neighbours."""
    rng = np.random.default_rng(0)
    points = rng.normal(size=(30, 2))
    labels = np.zeros(30, int)
    labels[0] = 1
    assert knn_accuracy(points, labels) == pytest.approx(29 / 30)


def test_knn_accuracy_leaves_each_point_out_of_its_own_vote():
    """With k = 1 on pairs of duplicated points of opposite labels, each point's
    only neighbour is its twin, so none is right (its own label never votes)."""
    points = np.repeat(np.arange(6, dtype=float)[:, None] * 10, 2, axis=0)
    points = np.hstack([points, np.zeros_like(points)])
    labels = np.tile([0, 1], 6)
    assert knn_accuracy(points, labels, k=1) == 0.0


@pytest.mark.parametrize(
    ("points", "labels", "k", "message"),
    [
        (np.zeros((5, 2)), np.zeros(4), 1, "points must be"),
        (np.zeros(5), np.zeros(5), 1, "points must be"),
        (np.zeros((5, 2)), np.zeros(5), 5, "k must be 1 to 4"),
        (np.full((6, 2), np.nan), np.zeros(6), 1, "finite"),
    ],
)
def test_knn_accuracy_refuses_bad_input(points, labels, k, message):
    """Mismatched shapes, too few points and NaN raise ValueError naming it."""
    with pytest.raises(ValueError, match=message):
        knn_accuracy(points, labels, k=k)


@given(
    points=hnp.arrays(
        np.float64,
        st.tuples(st.integers(6, 40), st.just(2)),
        elements=st.floats(-4, 4),
    ),
    seed=st.integers(0, 2**16),
)
@settings(max_examples=40, deadline=None)
def test_knn_accuracy_is_a_share_and_ignores_label_names(points, seed):
    """The accuracy is in [0, 1] and does not change when labels are renamed."""
    labels = np.random.default_rng(seed).integers(0, 3, points.shape[0])
    accuracy = knn_accuracy(points, labels)
    assert 0.0 <= accuracy <= 1.0
    assert knn_accuracy(points, labels + 7) == accuracy
