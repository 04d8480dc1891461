"""A model's facts as plain text: what the sidebar lists of the active model
and what an exported explorer file states (:mod:`vaeapp.export`).

Imports nothing of Streamlit, so the export's command line can use it.
"""

from __future__ import annotations

from vaeapp.core.config import ModelConfig, TrainConfig
from vaeapp.core.safe_json import whole_number
from vaeapp.data.sources import describe_training_data
from vaeapp.explore.scores import SAMPLES_MAX, majority_baseline
from vaeapp.store.format import TEST_IMAGES_KEY
from vaeapp.store.records import LoadedModel, ModelRecord
from vaeapp.store.writing import folder_bytes


def model_facts(model: LoadedModel) -> dict[str, str]:
    """What the sidebar says of ``model``, as plain text per row (outside text
    included: escape it wherever it is rendered)."""
    record = model.record
    metrics = record.metrics
    facts = {
        "Architecture": record.model.describe(),
        "Latent size": str(record.model.latent_dim),
        "Beta": f"{record.model.beta:g}",
        "Epochs": _epochs(record.epochs_trained, metrics.get("best_epoch")),
        "Test −ELBO": f"{record.test_neg_elbo:.2f} nats"
        + _first_images(metrics.get(TEST_IMAGES_KEY), model.labels.shape[0]),
        "Data": describe_training_data(
            record.dataset, record.train_images or record.train.train_size
        ),
        "Optimizer": f"{record.train.optimizer}, lr {record.train.learning_rate:g}, "
        f"{record.train.schedule}",
    }
    regularisation = _regularisation(record.model, record.train)
    if regularisation:
        facts["Regularisation"] = regularisation
    if record.train.weights_dtype != "float32":
        facts["Weights"] = f"stored as {record.train.weights_dtype}"
    size = _folder_size(record)
    if size:
        facts["Folder size"] = size
    if record.refine is not None:
        facts["Posterior"] = posterior_text(record)
    if "test_iwae_nll" in metrics and whole_number(
        metrics.get("iwae_samples"), 1, SAMPLES_MAX
    ):
        nll, samples = metrics["test_iwae_nll"], metrics["iwae_samples"]
        over = _iwae_images(metrics.get("iwae_images"), model.labels.shape[0])
        facts["Test −log p(x)"] = f"{nll:.2f} nats (IWAE, K = {samples:,.0f}{over})"
    knn = _knn_text(model)
    if knn:
        facts["5-NN accuracy"] = knn
    return facts


def _folder_size(record: ModelRecord) -> str:
    """The model folder's size, as large as its model needs (uploads have a
    cap of their own); empty when its files cannot be read now."""
    try:
        size = folder_bytes(record.path)
    except OSError:
        return ""
    return f"{size / 1e6:.1f} MB"


def _knn_text(model: LoadedModel) -> str:
    """``"89.05% on the map (majority-class baseline 11.35%)"`` from
    metrics.json's 5-NN accuracy, or an empty string without one; the
    baseline is what always guessing the test set's largest class scores,
    so that the accuracy is read against it, not against 0."""
    accuracy = model.record.metrics.get("knn5_accuracy", -1)
    if not 0 <= accuracy <= 1:
        return ""
    text = f"{accuracy:.2%} on the map"
    if model.class_names is not None:
        text += f" (majority-class baseline {majority_baseline(model.labels):.2%})"
    return text


def posterior_text(record: ModelRecord, short: bool = False) -> str:
    """Where the folder's q(z|x) comes from: ``"the encoder"``, or refined per
    image with the test figure of the encoder's own q when metrics.json holds
    it (``short``: without it, for a table's narrow cell)."""
    if record.refine is None:
        return "the encoder"
    if short:
        return f"refined ({record.refine.steps} steps)"
    encoder = record.metrics.get("encoder_test_neg_elbo")
    alone = f" (encoder alone: {encoder:.2f} nats)" if encoder is not None else ""
    return f"refined per image, {record.refine.steps} Adam steps{alone}"


def _first_images(images: object, total: int) -> str:
    """``" (first 10,000 of 100,000 test images)"`` when a figure covers
    only the first ``images`` of the folder's ``total``, else nothing."""
    if whole_number(images, 1, total - 1):
        return f" (first {images:,} of {total:,} test images)"
    return ""


def _iwae_images(images: object, total: int) -> str:
    """``", first 2,000 test images"`` when the estimate covers only part of
    the folder's ``total`` test images, else an empty string."""
    if whole_number(images, 1, total - 1):
        return f", first {images:,} test images"
    return ""


def _regularisation(model: ModelConfig, train: TrainConfig) -> str:
    """``"weight decay 0.01, input dropout 0.2, dropout 0.1, EMA 0.999"``: what
    of these the run used, or an empty string."""
    parts = []
    if train.optimizer == "adamw" and train.weight_decay:
        parts.append(f"weight decay {train.weight_decay:g}")
    if model.input_dropout:
        parts.append(f"input dropout {model.input_dropout:g}")
    if model.dropout:
        parts.append(f"dropout {model.dropout:g}")
    if train.ema_momentum:
        parts.append(f"EMA {train.ema_momentum:g}")
    return ", ".join(parts)


def _epochs(trained: int, kept: object) -> str:
    """``"300 (weights of epoch 150)"`` when an earlier epoch was kept."""
    if isinstance(kept, int) and 0 < kept < trained:
        return f"{trained} (weights of epoch {kept}, lowest validation −ELBO)"
    return str(trained)
