"""Component events from the browser are taken only in the shapes the app uses."""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from vaeapp.explore.manifold import check_grid
from vaeapp.ui.events import (
    COORD_LIMIT,
    grid_cell,
    grid_settings,
    map_commit,
    slider_z,
)
from vaeapp.web.view_settings import Q_MAX, Q_MIN


def test_a_click_and_a_release_on_a_point_are_taken() -> None:
    """[x, y] is a click; [x, y, i] a release on test point i."""
    assert map_commit([1, -2.5], 10) == ((1.0, -2.5), None)
    assert map_commit([0.5, 0.5, 9], 10) == ((0.5, 0.5), 9)


@pytest.mark.parametrize(
    "bad",
    [
        None,
        [1.0],
        [1.0, 2.0, 3, 4],
        "1,2",
        {"x": 1},
        [True, 1.0],
        [math.nan, 0.0],
        [math.inf, 0.0],
        [10**400, 0.0],
        [2 * COORD_LIMIT, 0.0],
        [0.0, 0.0, 10],
        [0.0, 0.0, -1],
        [0.0, 0.0, 2.0],
        [0.0, 0.0, False],
    ],
)
def test_malformed_map_events_are_refused(bad: object) -> None:
    """Wrong shapes, non-finite or huge numbers and bad indices raise ValueError."""
    with pytest.raises(ValueError):
        map_commit(bad, 10)


@given(st.integers(), st.integers())
def test_grid_cells_outside_the_grid_are_refused(row: int, col: int) -> None:
    """A cell is taken only when both indices lie in 0 .. n - 1."""
    inside = 0 <= row < 5 and 0 <= col < 5
    if inside:
        assert grid_cell([row, col], 5) == (row, col)
    else:
        with pytest.raises(ValueError, match="between 0 and 4"):
            grid_cell([row, col], 5)


def test_a_refusal_quotes_a_long_value_briefly() -> None:
    """The message quotes at most a short, plain piece of what was sent."""
    with pytest.raises(ValueError) as caught:
        map_commit(["[x](http://e.x)" * 50, 0], 10)
    assert len(str(caught.value)) < 120


@given(
    st.one_of(
        st.none(),
        st.text(max_size=5),
        st.lists(
            st.one_of(
                st.floats(allow_nan=True, allow_infinity=True),
                st.integers(),
                st.booleans(),
                st.text(max_size=3),
                st.none(),
            ),
            max_size=6,
        ),
    )
)
def test_the_sliders_z_is_three_finite_numbers_or_refused(value: object) -> None:
    """Whatever the browser sends as the sliders' z, it comes back as 3
    finite floats within the coordinate limit, or raises ValueError."""
    try:
        z = slider_z(value, 3)
    except ValueError:
        return
    assert len(z) == 3
    assert all(isinstance(v, float) and abs(v) <= COORD_LIMIT for v in z)


def test_the_sliders_z_is_taken_as_floats() -> None:
    """A list of latent_dim numbers is z; other lengths, or a True, are not."""
    assert slider_z([1, -2.5], 2) == [1.0, -2.5]
    for bad in ([1.0], [1.0, 2.0, 3.0], [True, 0.0], [math.nan, 0.0]):
        with pytest.raises(ValueError):
            slider_z(bad, 2)


@given(
    st.one_of(
        st.none(),
        st.lists(st.integers(), max_size=3),
        st.dictionaries(
            st.sampled_from(["n", "q", "spacing", "x"]),
            st.one_of(
                st.integers(),
                st.floats(allow_nan=True, allow_infinity=True),
                st.booleans(),
                st.sampled_from(["quantile", "linear", "data", "other"]),
            ),
        ),
    )
)
def test_grid_settings_are_in_range_or_refused(value: object) -> None:
    """Whatever the grid's controls send, it is a valid grid or ValueError."""
    try:
        n, q, spacing = grid_settings(value)
    except ValueError:
        return
    check_grid(n, q, spacing)
    assert Q_MIN <= q <= Q_MAX


def test_grid_settings_are_taken() -> None:
    """{n, q, spacing} within the controls' ranges is taken as it is."""
    assert grid_settings({"n": 30, "q": 0.1, "spacing": "data"}) == (30, 0.1, "data")
    for bad in (
        {"n": 31, "q": 0.1, "spacing": "data"},
        {"n": 5, "q": 0.5, "spacing": "linear"},
        {"n": 5, "q": 0.1, "spacing": "cubic"},
    ):
        with pytest.raises(ValueError):
            grid_settings(bad)
