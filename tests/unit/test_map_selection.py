"""The map's lasso, box and search: the events the browser sends are checked
(forged ones refused with a message), and the points inside a polygon are
exactly those NumPy's geometry says."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from vaeapp.explore.map_selection import Selection, points_in_polygon, search, select
from vaeapp.ui.events import MAX_POLYGON, image_chunk, map_search, map_selection

SQUARE = [[0.0, 0.0], [1.0, 0.0], [1.0, 1.0], [0.0, 1.0]]


def test_a_lasso_event_is_taken() -> None:
    """A polygon of [x, y] and the shown classes come back as numbers, sorted."""
    polygon, classes = map_selection(
        {"polygon": SQUARE, "classes": [3, 1, 1], "count": 7}, 10
    )
    assert polygon == SQUARE
    assert classes == [1, 3]


@pytest.mark.parametrize(
    "bad",
    [
        None,
        "polygon",
        [SQUARE],
        {"polygon": SQUARE[:2], "classes": []},
        {"polygon": [[0, 0], [1, math.nan], [1, 1]], "classes": []},
        {"polygon": [[0, 0], [1, math.inf], [1, 1]], "classes": []},
        {"polygon": [[0, 0], [1, 10**400], [1, 1]], "classes": []},
        {"polygon": [[0, 0], [1, "1"], [1, 1]], "classes": []},
        {"polygon": [[0, 0], [1], [1, 1]], "classes": []},
        {"polygon": [[0, 0], [1, True], [1, 1]], "classes": []},
        {"polygon": SQUARE, "classes": [10]},
        {"polygon": SQUARE, "classes": [-1]},
        {"polygon": SQUARE, "classes": [1.5]},
        {"polygon": SQUARE, "classes": "all"},
        {"polygon": SQUARE, "classes": list(range(11))},
        {"polygon": SQUARE},
    ],
)
def test_forged_selections_are_refused(bad: object) -> None:
    """Wrong shapes, NaN, infinite or huge numbers and bad classes raise ValueError."""
    with pytest.raises(ValueError, match="selection|polygon|class|x|y"):
        map_selection(bad, 10)


def test_a_ten_megabyte_selection_is_refused_without_reading_it_all() -> None:
    """A polygon of a million vertices (10 MB of JSON) is refused by its length."""
    vertices = [[0.5, 0.5]] * 1_000_000
    assert len(json.dumps({"polygon": vertices})) > 10_000_000
    with pytest.raises(ValueError, match=f"3 to {MAX_POLYGON}"):
        map_selection({"polygon": vertices, "classes": []}, 10)


@pytest.mark.parametrize(
    "bad", [None, 12, "", "   ", "x" * 201, "a\x00b", "line\nbreak", ["1"]]
)
def test_forged_searches_are_refused(bad: object) -> None:
    """Non-text, empty, overlong and control-character searches raise ValueError."""
    with pytest.raises(ValueError, match="search"):
        map_search(bad)


def test_image_chunk_requests_are_checked() -> None:
    """A chunk index must be a whole number among the model's chunks."""
    assert image_chunk(2, 3) == 2
    for bad in (3, -1, 1.0, True, "1", None):
        with pytest.raises(ValueError, match="image chunk"):
            image_chunk(bad, 3)


def test_points_in_a_square_and_a_concave_polygon() -> None:
    """Inside/outside of an L shape, its notch included, by the even-odd rule."""
    ell = np.array([[0, 0], [2, 0], [2, 1], [1, 1], [1, 2], [0, 2]], float)
    points = np.array([[0.5, 0.5], [1.5, 0.5], [0.5, 1.5], [1.5, 1.5], [3, 3]])
    assert points_in_polygon(points, ell).tolist() == [0, 1, 2]


def _in_triangle(points: np.ndarray, tri: np.ndarray) -> np.ndarray:
    """Barycentric test: a different method, for the property test."""
    a, b, c = tri
    v0, v1, v2 = c - a, b - a, points - a
    d00, d01, d11 = v0 @ v0, v0 @ v1, v1 @ v1
    d20, d21 = v2 @ v0, v2 @ v1
    den = d00 * d11 - d01 * d01
    u = (d11 * d20 - d01 * d21) / den
    v = (d00 * d21 - d01 * d20) / den
    return (u >= 0) & (v >= 0) & (u + v <= 1)


_coord = st.floats(-4, 4, allow_nan=False)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(_coord, _coord), min_size=3, max_size=3), st.integers(0, 99))
def test_points_in_a_triangle_match_the_barycentric_test(
    corners: list[tuple[float, float]], seed: int
) -> None:
    """For any triangle, the even-odd rule agrees with barycentric coordinates
    (away from its edges, where rounding may decide either way)."""
    tri = np.asarray(corners)
    area = abs(np.cross(tri[1] - tri[0], tri[2] - tri[0]))
    if area < 1e-3:
        return
    points = np.random.default_rng(seed).uniform(-4, 4, (2000, 2))
    expected = _in_triangle(points, tri)
    got = np.zeros(len(points), bool)
    got[points_in_polygon(points, tri)] = True
    # Points within 1e-9 of an edge are left out of the comparison.
    edges = [(tri[k], tri[(k + 1) % 3]) for k in range(3)]
    near = np.zeros(len(points), bool)
    for a, b in edges:
        d = np.abs(np.cross(b - a, points - a)) / np.hypot(*(b - a))
        near |= d < 1e-9
    assert np.array_equal(got[~near], expected[~near])


def test_select_keeps_the_shown_classes_only() -> None:
    """The legend's hidden classes are left out of a selection."""
    points = np.array([[0.5, 0.5], [0.2, 0.8], [0.7, 0.1], [2.0, 2.0]])
    labels = np.array([0, 1, 2, 0], np.uint8)
    picked = select(points, labels, np.asarray(SQUARE), [0, 2])
    assert picked.ids.tolist() == [0, 2]


class _Model:
    """What search and Selection read of a LoadedModel."""

    class_names = ("zero", "=one", "t,wo")
    labels = np.array([1, 0, 2, 1], np.uint8)
    latent_mean = np.array([[0, 0], [1, 1], [2, 4], [3, 3]], np.float32)


def test_search_by_index_and_class_name() -> None:
    """An index (with or without #) or a class name finds a test image."""
    model = _Model()
    assert search(model, "2") == 2  # type: ignore[arg-type]
    assert search(model, "#3") == 3  # type: ignore[arg-type]
    assert search(model, "ZERO") == 1  # type: ignore[arg-type]
    for bad in ("4", "nine", "-1"):
        with pytest.raises(ValueError, match="no test image|nothing found"):
            search(model, bad)  # type: ignore[arg-type]


def test_selection_summary_and_csv() -> None:
    """Counts per class, the mean latent, and CSV safe for spreadsheets."""
    model = _Model()
    picked = Selection(np.array([0, 2, 3]))
    assert picked.class_counts(model) == [("=one", 2), ("t,wo", 1)]  # type: ignore[arg-type]
    np.testing.assert_allclose(picked.mean_latent(model), [5 / 3, 7 / 3])  # type: ignore[arg-type]
    csv = picked.ids_csv(model).decode()  # type: ignore[arg-type]
    assert csv == "test_index,class\n0,'=one\n2,\"t,wo\"\n3,'=one\n"
