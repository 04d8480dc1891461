"""Component events from the browser are taken only in the shapes the app uses."""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from vaeapp.ui.events import COORD_LIMIT, grid_cell, map_commit


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
