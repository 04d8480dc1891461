"""AppTest tests of the explorer tools below the grid."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from app_helpers import explorer_data, move_slider, new_app, open_tool, walk

ROOT = Path(__file__).resolve().parents[2]


def test_tools_are_all_present() -> None:
    """The eight tool tabs render without exception."""
    at = new_app().run()
    assert not at.exception
    labels = [t.label for t in at.tabs]
    for name in (
        "Interpolate",
        "Neighbours",
        "Sample",
        "Training curves",
        "Latent dimensions",
        "Download model",
    ):
        assert name in labels


def test_the_tool_tabs_keep_their_labels_and_order() -> None:
    """The tab bar shows the registry's tools under the labels and in the
    order the page has always had (tests and people open tabs by label)."""
    at = new_app().run()
    assert [t.label for t in at.tabs] == [
        "Encode your image",
        "Interpolate",
        "Sweep an axis",
        "Neighbours",
        "Sample",
        "Training curves",
        "Latent dimensions",
        "Download model",
    ]


def test_prior_samples_are_marked_on_the_map() -> None:
    """Drawing prior samples puts that many stars on the latent map."""
    at = open_tool(new_app().run(), "Sample")
    at.slider(key="sample_count").set_value(5).run()
    at.button(key="draw").click().run()
    assert not at.exception
    samples = explorer_data(at)["samples"]
    assert len(samples) == 5
    assert np.isfinite(samples).all()


def test_interpolation_path_runs_from_a_to_current_z() -> None:
    """The path shown on the map starts at the saved point A and ends at z."""
    at = open_tool(new_app().run(), "Interpolate")
    move_slider(at, 0, -1.0)
    at.button(key="save_a").click().run()
    move_slider(at, 0, 2.0)
    move_slider(at, 1, 1.0)
    at.button(key="show_path").click().run()
    path = explorer_data(at)["path"]
    assert len(path) == at.slider(key="interp_steps").value
    assert path[0] == [-1.0, 0.0]
    assert path[-1] == [2.0, 1.0]


def test_neighbours_table_lists_eight_sorted_distances() -> None:
    """The neighbours table holds 8 test digits, nearest first."""
    at = open_tool(new_app().run(), "Neighbours")
    table = at.dataframe[0].value
    assert len(table) == 8
    distances = table["distance"].tolist()
    assert distances == sorted(distances)


def test_neighbours_show_the_test_images_themselves() -> None:
    """With the shipped test images, the strip shows real test digits, not decodes."""
    at = open_tool(new_app().run(), "Neighbours")
    captions = [img.proto.imgs[0].caption for img in walk(at._tree[0], "image")]
    assert "The nearest test images, nearest first" in captions


def test_only_the_open_tool_tab_runs() -> None:
    """Training-curve charts are built only once their tab is opened."""
    at = new_app().run()
    assert not list(walk(at._tree[0], "plotly_chart"))
    at = open_tool(at, "Training curves")
    assert not at.exception
    assert list(walk(at._tree[0], "plotly_chart"))
