"""The WebGL map's events: a lasso or box arrives as a polygon and the shown
classes, checked before use (forged ones refused with a message), and the
selection's grid of images pages through the ids."""

from __future__ import annotations

import json
import math
from types import SimpleNamespace

import numpy as np
import pytest

from vaeapp.explore.selection import MAX_POLYGON_VERTICES
from vaeapp.ui.events import map_selection
from vaeapp.ui.views.selection import GRID_COLUMNS, GRID_ROWS, SCALE, page_of_images

SQUARE = [[0.0, 0.0], [1.0, 0.0], [1.0, 1.0], [0.0, 1.0]]


def test_a_lasso_event_is_taken() -> None:
    """A polygon of [x, y] and the shown classes come back, classes sorted once."""
    polygon, classes = map_selection(
        {"polygon": SQUARE, "classes": [3, 1, 1], "count": 7}, 10
    )
    assert polygon.tolist() == SQUARE
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
    with pytest.raises(ValueError, match="selection|class"):
        map_selection(bad, 10)


def test_a_ten_megabyte_selection_is_refused() -> None:
    """A polygon of a million vertices (over 10 MB of JSON) is refused by its length."""
    vertices = [[0.5, 0.5]] * 1_000_000
    assert len(json.dumps({"polygon": vertices})) > 10_000_000
    with pytest.raises(ValueError, match=f"{MAX_POLYGON_VERTICES:,}"):
        map_selection({"polygon": vertices, "classes": []}, 10)


def test_the_selection_grid_pages_through_the_images() -> None:
    """Page k shows images ids[k * per_page:], row-major, white after the last."""
    images = np.arange(100, dtype=np.uint8)[:, None].repeat(4, axis=1)  # 2x2 grey
    model = SimpleNamespace(
        image_count=100, point_images=lambda rows: images[rows], image_shape=(2, 2, 1)
    )
    ids = np.arange(0, 100, 2)  # 50 images: one full page of 48, then 2
    first = page_of_images(model, ids, 0)  # type: ignore[arg-type]
    assert first.shape == (GRID_ROWS * 2 * SCALE, GRID_COLUMNS * 2 * SCALE)
    tile = 2 * SCALE
    assert first[0, 0] == 0 and first[0, tile] == 2 and first[tile, 0] == 24
    second = page_of_images(model, ids, 1)  # type: ignore[arg-type]
    assert second.shape == (2 * SCALE, GRID_COLUMNS * 2 * SCALE)
    assert second[0, 0] == 96 and second[0, tile] == 98 and second[0, 2 * tile] == 255
    empty = SimpleNamespace(image_count=0, image_shape=(2, 2, 1))
    assert page_of_images(empty, ids, 0) is None  # type: ignore[arg-type]
