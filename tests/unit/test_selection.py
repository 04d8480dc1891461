"""Selection on the map: which points a lasso holds (on any zoomed view), the
checks of what the browser sends, a selection's summary, its CSV, search."""

from __future__ import annotations

import csv
import io
import shutil

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from vaeapp.explore.selection import (
    MAX_POLYGON_VERTICES,
    MAX_QUERY_CHARS,
    check_ids,
    check_polygon,
    ids_csv,
    points_in_polygon,
    search,
    selection_summary,
)
from vaeapp.store.format import LATENTS_FILE, PRETRAINED_DIR
from vaeapp.store.reading import load_model

SQUARE = np.array([[0.0, 0.0], [4.0, 0.0], [4.0, 4.0], [0.0, 4.0]])


def _slow_even_odd(xy: np.ndarray, polygon: np.ndarray) -> np.ndarray:
    """The even-odd rule point by point, edge by edge, in plain Python with
    the documented conventions: what points_in_polygon must equal."""
    out = []
    for px, py in xy.tolist():
        inside = False
        for k in range(len(polygon)):
            (ax, ay), (bx, by) = polygon[k], polygon[(k + 1) % len(polygon)]
            if ay > by:
                ax, ay, bx, by = bx, by, ax, ay
            if ay <= py < by and (bx - ax) * (py - ay) - (by - ay) * (px - ax) > 0:
                inside = not inside
        out.append(inside)
    return np.array(out, bool)


def test_a_square_holds_its_inner_points_only() -> None:
    """Inner points in; outer points out; a point on the left edge in, on the
    right edge out, on the top and bottom edges by the half-open rule."""
    xy = np.array([[1, 1], [3.9, 0.1], [5, 1], [-1, 2], [0, 2], [4, 2], [2, 0], [2, 4]])
    got = points_in_polygon(xy, SQUARE)
    assert got.tolist() == [True, True, False, False, True, False, True, False]


def test_a_self_crossing_lasso_uses_the_even_odd_rule() -> None:
    """A bow tie holds points in both loops; a star's inner pentagon (covered
    twice) is outside, as an evenodd fill draws it."""
    bow = np.array([[0, 0], [4, 4], [4, 0], [0, 4]], float)
    assert points_in_polygon(np.array([[1, 2], [3, 2], [2, 0.5]]), bow).tolist() == [
        True,
        True,
        False,
    ]
    angles = np.pi / 2 + np.arange(5) * 4 * np.pi / 5
    star = np.stack([np.cos(angles), np.sin(angles)], 1)
    assert points_in_polygon(np.array([[0.0, 0.0], [0, 0.7]]), star).tolist() == [
        False,
        True,
    ]


def test_two_polygons_sharing_an_edge_never_both_hold_a_point() -> None:
    """Points on the shared edge of two adjacent squares are in exactly one."""
    right = SQUARE + [4.0, 0.0]
    xy = np.stack([np.full(9, 4.0), np.linspace(0, 3.5, 9)], 1)
    both = points_in_polygon(xy, SQUARE).astype(int) + points_in_polygon(xy, right)
    assert both.tolist() == [1] * 9


coords = st.integers(-64, 64).map(lambda v: v / 4)


@given(
    polygon=st.lists(st.tuples(coords, coords), min_size=3, max_size=12),
    points=st.lists(st.tuples(coords, coords), min_size=1, max_size=60),
    scale=st.integers(-6, 6).map(lambda e: 2.0**e),
    shift=st.tuples(st.integers(-1000, 1000), st.integers(-1000, 1000)),
)
@settings(max_examples=150, deadline=None)
def test_lasso_matches_the_rule_and_any_zoomed_view(polygon, points, scale, shift):
    """On grid points (many on the outline) the vectorised test equals the
    point-by-point rule, and zooming and panning both points and outline (a
    power-of-two scale and a shift, exact in floating point) selects the
    same points."""
    polygon, xy = np.array(polygon, float), np.array(points, float)
    got = points_in_polygon(xy, polygon)
    np.testing.assert_array_equal(got, _slow_even_odd(xy, polygon))
    zoomed = points_in_polygon(xy * scale + shift, polygon * scale + shift)
    np.testing.assert_array_equal(zoomed, got)


@given(
    seed=st.integers(0, 2**16),
    matrix=st.tuples(*[st.floats(-3, 3)] * 4),
)
@settings(max_examples=60, deadline=None)
def test_lasso_selects_the_same_points_under_any_affine_view(seed, matrix):
    """Any invertible affine map of the view (rotated, sheared, mirrored,
    zoomed) selects the same points, apart from points within a rounding
    error of the outline."""
    a = np.array(matrix).reshape(2, 2)
    if abs(np.linalg.det(a)) < 0.1:
        return
    rng = np.random.default_rng(seed)
    polygon, xy = rng.uniform(-1, 1, (9, 2)), rng.uniform(-1.2, 1.2, (400, 2))
    shift = rng.normal(size=2) * 100
    got = points_in_polygon(xy, polygon)
    seen = points_in_polygon(xy @ a.T + shift, polygon @ a.T + shift)
    edges = np.roll(polygon, -1, 0) - polygon
    t = np.clip((((xy[:, None] - polygon) * edges).sum(-1)) / (edges**2).sum(-1), 0, 1)
    gap = np.linalg.norm(xy[:, None] - (polygon + t[..., None] * edges), axis=-1)
    clear = gap.min(axis=1) > 1e-9
    np.testing.assert_array_equal(seen[clear], got[clear])


def test_a_lasso_over_a_million_points_is_exact_against_the_rule() -> None:
    """A 200-vertex lasso on 1,000,000 random points gives what the slow rule
    gives on a sample of them."""
    rng = np.random.default_rng(1)
    xy = rng.normal(size=(1_000_000, 2))
    angle = np.linspace(0, 2 * np.pi, 200, endpoint=False)
    radius = 1 + 0.3 * np.sin(5 * angle)
    polygon = np.stack([radius * np.cos(angle), radius * np.sin(angle)], 1)
    got = points_in_polygon(xy, polygon)
    sample = rng.choice(xy.shape[0], 300, replace=False)
    np.testing.assert_array_equal(got[sample], _slow_even_odd(xy[sample], polygon))
    assert 0.2 < got.mean() < 0.6


@pytest.mark.parametrize(
    "value",
    [
        "x" * 10_000_000,
        [[0, 0]] * (MAX_POLYGON_VERTICES + 1),
        [[0, 0], [1, 1]],
        [[0, 0], [1, float("nan")], [1, 0]],
        [[0, 0], [1, float("inf")], [1, 0]],
        [[0, 0], [1, 1e300], [1, 0]],
        [[0, 0], [1, True], [1, 0]],
        [[0, 0], [1, "1"], [1, 0]],
        [[0, 0], [1, 1, 1], [1, 0]],
        [[0, 0], {"x": 1}, [1, 0]],
        {"polygon": [[0, 0], [1, 1], [1, 0]]},
        None,
        np.zeros((5, 3)),
        np.array([["a", "b"]] * 3),
        np.array([[0, 0], [1, np.nan], [1, 0]]),
    ],
)
def test_forged_polygons_are_refused_with_what_is_allowed(value) -> None:
    """Huge, NaN, infinite, mistyped or malformed outlines raise ValueError
    naming the allowed form."""
    with pytest.raises(ValueError, match="3 to 10,000 \\[x, y\\] pairs"):
        check_polygon(value)


@given(
    st.recursive(
        st.none() | st.booleans() | st.floats() | st.text(max_size=5),
        lambda children: st.lists(children, max_size=5),
        max_leaves=30,
    )
)
@settings(max_examples=200, deadline=None)
def test_any_json_value_is_a_polygon_or_a_value_error(value) -> None:
    """Whatever JSON the browser sends, check_polygon returns a finite (m, 2)
    array or raises ValueError, nothing else."""
    try:
        polygon = check_polygon(value)
    except ValueError:
        return
    assert polygon.ndim == 2 and polygon.shape[1] == 2
    assert np.isfinite(polygon).all()


@given(
    st.recursive(
        st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=5),
        lambda children: st.lists(children, max_size=5),
        max_leaves=30,
    )
)
@settings(max_examples=200, deadline=None)
def test_any_json_value_is_ids_or_a_value_error(value) -> None:
    """Whatever the browser sends as ids, check_ids returns sorted unique ids
    in range or raises ValueError."""
    try:
        ids = check_ids(value, 50)
    except ValueError:
        return
    assert ids.dtype == np.int64 and (np.diff(ids) > 0).all()
    assert ids.size == 0 or (ids.min() >= 0 and ids.max() < 50)


@pytest.mark.parametrize(
    "value",
    [
        [-1],
        [50],
        [True],
        [1.0],
        ["3"],
        list(range(51)),
        "1,2",
        np.array([0.5]),
        np.array([[1]]),
        np.array([60]),
    ],
)
def test_forged_ids_are_refused(value) -> None:
    """Out-of-range, mistyped or too many ids raise ValueError."""
    with pytest.raises(ValueError, match="ids must be at most 50 whole numbers"):
        check_ids(value, 50)


@pytest.fixture(scope="module")
def tutorial():
    return load_model(PRETRAINED_DIR / "mnist-tutorial")


@pytest.fixture(scope="module")
def named(tmp_path_factory) -> object:
    """mnist-tutorial with file names, some hostile to spreadsheets."""
    folder = tmp_path_factory.mktemp("named") / "m"
    shutil.copytree(PRETRAINED_DIR / "mnist-tutorial", folder)
    with np.load(folder / LATENTS_FILE) as npz:
        arrays = dict(npz)
    names = [f"scan {i:05d}.png" for i in range(10_000)]
    names[3] = "=HYPERLINK(evil).png"
    names[4] = 'a,"quoted".png'
    np.savez(folder / LATENTS_FILE, **arrays, names=np.array(names))
    return load_model(folder)


def test_summary_counts_classes_and_averages_latents(tutorial) -> None:
    """Counts per class name match a direct count; the mean latent is the
    mean of the selected means."""
    ids = np.flatnonzero(tutorial.labels == 3)[:40].tolist() + [0, 1, 2]
    summary = selection_summary(tutorial, ids)
    expected = np.bincount(tutorial.labels[sorted(set(ids))], minlength=10)
    assert summary.count == len(set(ids))
    assert [c for _, c in summary.class_counts] == expected.tolist()
    assert summary.class_counts[3][0] == tutorial.class_names[3]
    np.testing.assert_allclose(
        summary.mean_latent, tutorial.latent_mean[sorted(set(ids))].mean(0), rtol=1e-6
    )
    assert selection_summary(tutorial, []).mean_latent is None


def test_csv_lists_index_class_and_file_name_safely(named) -> None:
    """Rows in id order with class and file name; a formula is quoted so a
    spreadsheet shows it, commas and quotes survive a CSV reader."""
    rows = list(csv.reader(io.StringIO(ids_csv(named, [4, 3, 10]))))
    assert rows[0] == ["test_index", "class", "file_name"]
    assert rows[1] == ["3", named.class_names[named.labels[3]], "'=HYPERLINK(evil).png"]
    assert rows[2][2] == 'a,"quoted".png'
    assert rows[3][0] == "10"


def test_csv_of_a_folder_without_file_names_has_index_and_class(tutorial) -> None:
    """Without recorded names the CSV has the test index and class only."""
    assert ids_csv(tutorial, [5]).splitlines() == [
        "test_index,class",
        f"5,{tutorial.class_names[tutorial.labels[5]]}",
    ]


def test_search_finds_an_index_a_class_and_a_file_name(named) -> None:
    """'#12' and '12' find image 12; a class name (any case) all its images,
    also when it is a digit ('7' on MNIST; '#7' is image 7); part of a file
    name the images whose names hold it; an index past the end nothing."""
    assert search(named, "#12").tolist() == [12]
    assert search(named, " 12 ").tolist() == [12]
    assert search(named, "99999999999999999999").tolist() == []
    assert search(named, "#7").tolist() == [7]
    np.testing.assert_array_equal(search(named, "7"), np.flatnonzero(named.labels == 7))
    assert search(named, "SCAN 0012").tolist() == list(range(120, 130))
    assert search(named, "no such thing").tolist() == []


@pytest.mark.parametrize(
    "query",
    [
        "",
        "   ",
        "a" * (MAX_QUERY_CHARS + 1),
        "bad\x00",
        "tab\there",
        None,
        7,
        ["#1"],
        "x" * 10_000_000,
    ],
)
def test_forged_search_strings_are_refused(tutorial, query) -> None:
    """Empty, over-long, non-printable or non-string searches raise
    ValueError naming what is allowed."""
    with pytest.raises(ValueError, match="printable characters"):
        search(tutorial, query)


@given(st.text(max_size=40))
@settings(max_examples=200, deadline=None)
def test_any_search_string_finds_ids_in_range_or_is_refused(query) -> None:
    """Any text either finds sorted ids of test images or raises ValueError."""
    model = _small_model()
    try:
        ids = search(model, query)
    except ValueError:
        return
    assert ids.dtype == np.int64
    assert ids.size == 0 or (0 <= ids.min() and ids.max() < model.labels.shape[0])


_cached: dict = {}


def _small_model():
    if "m" not in _cached:
        _cached["m"] = load_model(PRETRAINED_DIR / "mnist-tutorial")
    return _cached["m"]
