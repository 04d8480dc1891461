"""Two models of the same data side by side, in NumPy: whether they can be
compared image for image, their figures (ELBO and its parts, KL per latent
dimension, how well the classes separate on the map, training time), their
held-out curves, and one test image's reconstruction by each.

No Streamlit here: :mod:`vaeapp.ui.views.compare` draws what this computes.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from vaeapp.explore.analysis import PIXEL_EPS, kl_per_dimension
from vaeapp.explore.facts import posterior_text
from vaeapp.explore.scores import KNN_K, knn_accuracy, majority_baseline
from vaeapp.store.format import held_out_curve
from vaeapp.store.records import LoadedModel, ModelRecord

KL_SHOWN = 6  # dimensions named in the table's KL row; the rest are summed up
KL_UNUSED = 0.01  # nats: a dimension with less mean KL than this is unused


def same_data(a: ModelRecord, b: ModelRecord) -> bool:
    """Whether ``a`` and ``b`` were trained on the same data set (its name) at
    the same image shape: the models a compare view offers."""
    return a.dataset == b.dataset and a.model.image_shape == b.model.image_shape


def mismatched_test_sets(a: LoadedModel, b: LoadedModel) -> str | None:
    """Why test image ``i`` of ``a`` may not be test image ``i`` of ``b``, or
    None when they hold the same test images in the same order.

    Same data set and shape is not enough: a folder's test split depends on
    how it was made (an own folder's share held out), so the counts, the
    labels and, where both folders hold them, the images themselves must agree.
    """
    if not same_data(a.record, b.record):
        return (
            f"{a.record.name} and {b.record.name} were trained on different data "
            "or image shapes"
        )
    if a.labels.shape != b.labels.shape:
        return (
            f"their test sets differ in size ({a.labels.shape[0]} and "
            f"{b.labels.shape[0]} images)"
        )
    if not np.array_equal(a.labels, b.labels):
        return "their test sets hold different images (the labels differ)"
    both = a.test_images is not None and b.test_images is not None
    if both and not np.array_equal(a.test_images, b.test_images):
        return "their test sets hold different images"
    return None


@dataclass(frozen=True)
class Figures:
    """One model's figures for the comparison table.

    ``kl_per_dim`` is ``(latent_dim,)`` mean KL to N(0, 1) per dimension over
    the test set, in nats, in dimension order; ``knn`` the leave-one-out
    5-nearest-neighbour accuracy on the shown map plane in [0, 1] and
    ``baseline`` the share of the test set's largest class, what always
    guessing it scores (both None for a data set without labels);
    ``seconds`` the summed training time of the epochs (None when the history
    does not record it); figures the metrics do not hold are None.
    """

    name: str
    architecture: str
    latent_dim: int
    test_neg_elbo: float
    test_recon: float | None
    test_kl: float | None
    kl_per_dim: np.ndarray
    knn: float | None
    seconds: float | None
    epochs: int
    posterior: str = "the encoder"
    baseline: float | None = None


def _number(value: Any) -> float | None:
    """A finite number from the metrics, else None."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return float(value) if math.isfinite(value) else None


def training_seconds(history: list[Any]) -> float | None:
    """The sum of the history rows' ``seconds``; None if a row lacks it."""
    values = [_number(row.get("seconds")) if isinstance(row, dict) else None
              for row in history]  # fmt: skip
    if not values or any(v is None for v in values):
        return None
    return float(sum(values))


def map_knn(model: LoadedModel, points: np.ndarray) -> float | None:
    """5-NN accuracy of ``model``'s labels on its map ``points`` ``(n, 2)``
    (the test set's means on the shown plane); None without labels."""
    if model.class_names is None or points.shape[0] <= KNN_K:
        return None
    return knn_accuracy(points, model.labels, KNN_K)


def model_figures(model: LoadedModel, points: np.ndarray) -> Figures:
    """``model``'s figures, its 5-NN accuracy taken on ``points`` ``(n, 2)``,
    its test means on the map's plane."""
    record = model.record
    metrics = record.metrics
    history = metrics.get("history", [])
    return Figures(
        name=record.name,
        architecture=record.model.describe(),
        latent_dim=record.model.latent_dim,
        test_neg_elbo=record.test_neg_elbo,
        test_recon=_number(metrics.get("test_recon")),
        test_kl=_number(metrics.get("test_kl")),
        kl_per_dim=kl_per_dimension(model.latent_mean, model.latent_log_var),
        knn=map_knn(model, points),
        seconds=training_seconds(history),
        epochs=record.epochs_trained,
        posterior=posterior_text(record, short=True),
        baseline=None if model.class_names is None else majority_baseline(model.labels),
    )


def kl_summary(kl: np.ndarray, shown: int = KL_SHOWN) -> str:
    """Per-dimension KL ``(latent_dim,)`` in one short line, largest first:
    ``z2 3.41, z1 3.02`` and, past ``shown`` dimensions, how many more and
    how many of all are unused (below :data:`KL_UNUSED` nats)."""
    order = np.argsort(-kl, kind="stable")
    text = ", ".join(f"z{i + 1} {kl[i]:.2f}" for i in order[:shown])
    rest = len(order) - shown
    if rest > 0:
        text += f" … +{rest} more"
    unused = int(np.sum(kl < KL_UNUSED))
    if unused:
        text += f" ({unused} unused)"
    return text


def _or_dash(value: float | None, form: str) -> str:
    return "—" if value is None else format(value, form)


def _percent(share: float | None) -> str:
    """A share in [0, 1] as ``"82.10 %"``; a dash if unknown."""
    return "—" if share is None else f"{100 * share:.2f} %"


def duration(seconds: float | None) -> str:
    """``seconds`` as ``42 s``, ``3 min 05 s`` or ``1 h 02 min``; a dash if
    unknown."""
    if seconds is None:
        return "—"
    whole = round(seconds)
    if whole < 60:
        return f"{whole} s"
    if whole < 3600:
        return f"{whole // 60} min {whole % 60:02d} s"
    return f"{whole // 3600} h {whole % 3600 // 60:02d} min"


ROW_NAMES = (
    "Architecture",
    "Latent size",
    "Test −ELBO (nats)",
    "q(z|x)",
    "Reconstruction (nats)",
    "KL (nats)",
    "KL per dimension (nats)",
    f"{KNN_K}-NN accuracy on the map",
    "Majority-class baseline",
    "Training time",
    "Epochs",
)


def figure_cells(figures: Figures) -> list[str]:
    """One model's column of the table, as text, in :data:`ROW_NAMES` order."""
    return [
        figures.architecture,
        str(figures.latent_dim),
        f"{figures.test_neg_elbo:.2f}",
        figures.posterior,
        _or_dash(figures.test_recon, ".2f"),
        _or_dash(figures.test_kl, ".2f"),
        kl_summary(figures.kl_per_dim),
        _percent(figures.knn),
        # Beside the accuracy: always guessing the largest class scores this.
        _percent(figures.baseline),
        duration(figures.seconds),
        str(figures.epochs),
    ]


@dataclass(frozen=True)
class Curve:
    """A model's held-out negative ELBO per epoch: ``epochs`` 1, 2, ... and
    ``values`` (None where a row lacks it), labelled ``label``."""

    label: str
    epochs: list[int]
    values: list[float | None]


def held_out(record: ModelRecord) -> Curve | None:
    """The held-out -ELBO curve of ``record`` (validation, or test for older
    folders), or None when its history carries none."""
    history = record.metrics.get("history", [])
    found = held_out_curve(history)
    if found is None:
        return None
    key, label = found
    values = [_number(row.get(key)) if isinstance(row, dict) else None
              for row in history]  # fmt: skip
    return Curve(label, list(range(1, len(history) + 1)), values)


def reconstructions(models: list[LoadedModel], index: int) -> list[np.ndarray]:
    """Test image ``index`` decoded by each model from its own posterior mean:
    one flat ``(height * width * channels,)`` float32 in [0, 1] per model."""
    return [m.vae.decode(m.latent_mean[index][None])[0] for m in models]


def image_loss(image: np.ndarray, reconstruction: np.ndarray) -> float:
    """Bernoulli negative log-likelihood of ``image`` under ``reconstruction``
    (both flat ``(height * width * channels,)`` in [0, 1]), summed, in nats:
    the loss the models were trained on, for one image."""
    x = np.asarray(image, np.float64)
    p = np.clip(np.asarray(reconstruction, np.float64), PIXEL_EPS, 1.0 - PIXEL_EPS)
    return float(-(x * np.log(p) + (1.0 - x) * np.log1p(-p)).sum())
