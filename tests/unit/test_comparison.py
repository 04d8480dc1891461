"""Two models side by side: comparability, figures, curves, reconstructions."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from vaeapp.explore.analysis import kl_per_dimension
from vaeapp.explore.comparison import (
    ROW_NAMES,
    duration,
    figure_cells,
    held_out,
    image_loss,
    kl_summary,
    mismatched_test_sets,
    model_figures,
    reconstructions,
    same_data,
    training_seconds,
)
from vaeapp.explore.projection import axes_plane
from vaeapp.explore.scores import knn_accuracy
from vaeapp.store.format import PRETRAINED_DIR
from vaeapp.store.reading import load_model


@pytest.fixture(scope="module")
def deep():
    return load_model(PRETRAINED_DIR / "mnist-deep")


@pytest.fixture(scope="module")
def tutorial():
    return load_model(PRETRAINED_DIR / "mnist-tutorial")


def test_models_of_one_data_set_are_comparable(deep, tutorial) -> None:
    """Models of one data set are comparable."""
    fashion = load_model(PRETRAINED_DIR / "fashion-tutorial")
    assert same_data(deep.record, tutorial.record)
    assert not same_data(deep.record, fashion.record)
    assert mismatched_test_sets(deep, tutorial) is None
    assert "different data" in mismatched_test_sets(deep, fashion)


def test_test_sets_that_differ_are_refused(deep, tutorial) -> None:
    """Test sets that differ are refused."""
    fewer = dataclasses.replace(tutorial, labels=tutorial.labels[:-1])
    assert "differ in size" in mismatched_test_sets(deep, fewer)
    shuffled = dataclasses.replace(tutorial, labels=np.roll(tutorial.labels, 1))
    assert "labels differ" in mismatched_test_sets(deep, shuffled)
    images = tutorial.test_images.copy()
    images[0] = 255 - images[0]
    other = dataclasses.replace(tutorial, test_images=images)
    assert mismatched_test_sets(deep, other) == "their test sets hold different images"


def test_figures_come_from_the_metrics_and_the_map(deep) -> None:
    """ELBO parts as metrics.json has them, seconds and epochs from the
    history, KL per dimension and 5-NN accuracy computed on the map."""
    points = axes_plane(2, (0, 1)).coords(deep.latent_mean)
    figures = model_figures(deep, points)
    metrics = deep.record.metrics
    assert figures.test_neg_elbo == metrics["test_neg_elbo"]
    assert figures.test_recon == metrics["test_recon"]
    assert figures.test_kl == metrics["test_kl"]
    assert figures.epochs == len(metrics["history"])
    assert figures.seconds == pytest.approx(
        sum(row["seconds"] for row in metrics["history"])
    )
    np.testing.assert_allclose(
        figures.kl_per_dim, kl_per_dimension(deep.latent_mean, deep.latent_log_var)
    )
    assert figures.knn == knn_accuracy(points, deep.labels)
    cells = figure_cells(figures)
    assert len(cells) == len(ROW_NAMES)
    assert cells[2] == f"{metrics['test_neg_elbo']:.2f}"
    assert cells[3] == "the encoder"
    assert cells[7] == f"{100 * figures.knn:.2f} %"


def test_a_data_set_without_labels_has_no_knn(deep) -> None:
    """A data set without labels has no knn."""
    record = dataclasses.replace(deep.record, class_names=None)
    unlabelled = dataclasses.replace(deep, record=record)
    points = axes_plane(2, (0, 1)).coords(deep.latent_mean)
    assert model_figures(unlabelled, points).knn is None


def test_training_seconds_need_every_row() -> None:
    """Training seconds need every row."""
    assert training_seconds([{"seconds": 1.5}, {"seconds": 2}]) == 3.5
    assert training_seconds([{"seconds": 1.5}, {}]) is None
    assert training_seconds([{"seconds": float("nan")}]) is None
    assert training_seconds([]) is None
    assert training_seconds(["row"]) is None


def test_kl_summary_lists_the_largest_first_and_counts_unused() -> None:
    """Kl summary lists the largest first and counts unused."""
    assert kl_summary(np.array([0.5, 3.0])) == "z2 3.00, z1 0.50"
    kl = np.array([0.001, 2.0, 0.0, 1.0, 0.3, 0.2, 0.1, 0.05])
    text = kl_summary(kl, shown=3)
    assert text == "z2 2.00, z4 1.00, z5 0.30 … +5 more (2 unused)"


def test_durations_read_as_seconds_minutes_or_hours() -> None:
    """Durations read as seconds minutes or hours."""
    assert duration(None) == "—"
    assert duration(42.4) == "42 s"
    assert duration(185) == "3 min 05 s"
    assert duration(3725) == "1 h 02 min"


def test_held_out_curve_prefers_validation_rows(deep) -> None:
    """The curve is the validation -ELBO where rows have it, else (folders
    written before the validation split, as mnist-conv) the test -ELBO."""
    older = load_model(PRETRAINED_DIR / "mnist-conv").record
    curve = held_out(older)
    history = older.metrics["history"]
    assert curve.label == "test −ELBO"
    assert curve.epochs == list(range(1, len(history) + 1))
    assert curve.values == [row["test_neg_elbo"] for row in history]
    assert held_out(deep.record).label == "validation −ELBO"
    rows = [{"epoch": 1, "val_neg_elbo": 200.0}, {"epoch": 2, "val_neg_elbo": 190.0}]
    newer = dataclasses.replace(deep.record, metrics={"history": rows})
    assert held_out(newer).values == [200.0, 190.0]
    assert held_out(newer).label == "validation −ELBO"
    assert held_out(dataclasses.replace(deep.record, metrics={"history": []})) is None


def test_reconstructions_decode_each_models_own_mean(deep, tutorial) -> None:
    """Reconstructions decode each models own mean."""
    recon = reconstructions([deep, tutorial], 7)
    for model, pixels in zip((deep, tutorial), recon, strict=True):
        expected = model.vae.decode(model.latent_mean[7][None])[0]
        np.testing.assert_array_equal(pixels, expected)
        assert pixels.shape == (784,)


def test_image_loss_is_the_bernoulli_cross_entropy() -> None:
    """Image loss is the bernoulli cross entropy."""
    image = np.array([0.0, 1.0, 0.5])
    recon = np.array([0.5, 0.5, 0.5])
    assert image_loss(image, recon) == pytest.approx(3 * np.log(2))
    assert np.isfinite(image_loss(np.array([1.0]), np.array([0.0])))
