"""The majority-class baseline shown beside every 5-NN accuracy: the share of
the test set's largest class, what always guessing that class scores."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from vaeapp import evaluate
from vaeapp.explore.comparison import ROW_NAMES, figure_cells, model_figures
from vaeapp.explore.facts import model_facts
from vaeapp.explore.projection import axes_plane
from vaeapp.explore.scores import majority_baseline
from vaeapp.store.format import PRETRAINED_DIR
from vaeapp.store.reading import load_model
from vaeapp.store.records import LoadedModel


@pytest.fixture(scope="module")
def deep() -> LoadedModel:
    return load_model(PRETRAINED_DIR / "mnist-deep")


def test_the_baseline_is_the_share_of_the_largest_class() -> None:
    """Labels 0, 1, 1, 2: always guessing 1 scores one half."""
    assert majority_baseline(np.array([0, 1, 1, 2])) == 0.5
    assert majority_baseline(np.array([3], np.uint8)) == 1.0


def test_mnists_test_set_baseline_is_11_35_percent(deep: LoadedModel) -> None:
    """MNIST's 10,000 test labels: 1,135 are 1s, so the baseline is 11.35 %."""
    assert deep.labels.shape == (10_000,)
    assert majority_baseline(deep.labels) == pytest.approx(0.1135)


@pytest.mark.parametrize(
    "labels", [np.array([], np.int64), np.array([[1, 2]]), np.array([0.5, 1.0])]
)
def test_unusable_labels_are_refused(labels: np.ndarray) -> None:
    """Empty, 2-D or non-integer labels raise ValueError."""
    with pytest.raises(ValueError, match="labels must be"):
        majority_baseline(labels)


def test_negative_labels_are_refused() -> None:
    """Negative labels raise ValueError naming what is allowed."""
    with pytest.raises(ValueError, match="0 or more"):
        majority_baseline(np.array([-1, 2]))


def test_the_compare_table_shows_it_below_the_5nn_accuracy(deep: LoadedModel) -> None:
    """The compare table's row after the 5-NN accuracy is the baseline."""
    figures = model_figures(deep, axes_plane(2, (0, 1)).coords(deep.latent_mean))
    cells = dict(zip(ROW_NAMES, figure_cells(figures), strict=True))
    names = list(ROW_NAMES)
    assert (
        names.index("Majority-class baseline")
        == names.index("5-NN accuracy on the map") + 1
    )
    assert cells["Majority-class baseline"] == "11.35 %"


def test_the_compare_table_has_no_baseline_without_labels(deep: LoadedModel) -> None:
    """A data set without labels shows a dash for the baseline."""
    record = dataclasses.replace(deep.record, class_names=None)
    unlabelled = dataclasses.replace(deep, record=record)
    figures = model_figures(unlabelled, deep.latent_mean)
    cells = dict(zip(ROW_NAMES, figure_cells(figures), strict=True))
    assert cells["Majority-class baseline"] == "—"


def test_the_facts_show_it_beside_the_5nn_accuracy(deep: LoadedModel) -> None:
    """The sidebar's (and the exported file's) 5-NN fact names the baseline."""
    knn = deep.record.metrics["knn5_accuracy"]
    assert model_facts(deep)["5-NN accuracy"] == (
        f"{knn:.2%} on the map (majority-class baseline 11.35%)"
    )


def test_evaluate_prints_it_beside_the_5nn_accuracy(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """python -m vaeapp.evaluate prints the baseline after the 5-NN accuracy."""
    argv = ["--model", "mnist-deep", "--samples", "2", "--images", "20"]
    assert evaluate.main(argv) == 0
    out = capsys.readouterr().out
    assert "5-NN accuracy of the map" in out
    assert "(majority-class baseline 11.35%)" in out
