"""A model's facts as plain text: what the sidebar lists of the active model
and what an exported explorer file states (:mod:`vaeapp.export`).

Imports nothing of Streamlit, so the export's command line can use it.
"""

from __future__ import annotations

from vaeapp.data import describe_training_data
from vaeapp.store import LoadedModel


def model_facts(model: LoadedModel) -> dict[str, str]:
    """What the sidebar says of ``model``, as plain text per row (outside text
    included: escape it wherever it is rendered)."""
    record = model.record
    return {
        "Architecture": record.model.describe(),
        "Latent size": str(record.model.latent_dim),
        "Beta": f"{record.model.beta:g}",
        "Epochs": str(record.epochs_trained),
        "Test −ELBO": f"{record.test_neg_elbo:.2f} nats",
        "Data": describe_training_data(record.dataset, record.train.train_size),
        "Optimizer": f"{record.train.optimizer}, lr {record.train.learning_rate:g}, "
        f"{record.train.schedule}",
    }
