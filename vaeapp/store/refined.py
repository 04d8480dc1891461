"""A model folder's q(z|x) refined per image (:mod:`vaeapp.inference.refinement`):
measured on the run's validation split against the encoder's, and written
into the folder with its figures (``python -m vaeapp.refine``, and training's
``--refine``)."""

from __future__ import annotations

import dataclasses
import time
from typing import Any

import numpy as np

from vaeapp.core.config import RefineConfig
from vaeapp.data import image_folder
from vaeapp.data.sources import load_for, validation_split
from vaeapp.inference.refinement import EVAL_SAMPLES, neg_elbo, refine
from vaeapp.store.format import (
    IWAE_IMAGES_KEY,
    IWAE_KEY,
    IWAE_SAMPLES_KEY,
    IWAE_SE_KEY,
    KNN_KEY,
    images_as_bytes,
)
from vaeapp.store.records import LoadedModel
from vaeapp.store.writing import write_posterior

# The draws that measure a figure are not the refinement's own.
MEASURE_SEED = 12_345

STALE_KEYS = (IWAE_KEY, IWAE_SE_KEY, IWAE_SAMPLES_KEY, IWAE_IMAGES_KEY, KNN_KEY)


@dataclasses.dataclass(frozen=True)
class Figure:
    """Mean reconstruction, KL and negative ELBO in nats over ``images``."""

    recon: float
    kl: float
    images: int

    @property
    def neg_elbo(self) -> float:
        return self.recon + self.kl


def measure(
    model: LoadedModel, x: np.ndarray, mean: np.ndarray, log_var: np.ndarray
) -> Figure:
    """The figure of images ``x`` ``(n, n_pixels)`` under q = ``(mean,
    log_var)``, with the training command's draws of z per image."""
    recon, kl = neg_elbo(model.vae, x, mean, log_var, EVAL_SAMPLES, MEASURE_SEED)
    return Figure(float(recon.mean()), float(kl.mean()), int(x.shape[0]))


def compare(
    model: LoadedModel, x: np.ndarray, config: RefineConfig
) -> tuple[Figure, Figure, tuple[np.ndarray, np.ndarray], float]:
    """The encoder's figure on ``x``, the refined one, the refined q and the
    seconds the refinement took per image."""
    mean, log_var = model.vae.encode(x)
    started = time.perf_counter()
    refined = refine(model.vae, x, mean, log_var, config)
    seconds = (time.perf_counter() - started) / max(1, x.shape[0])
    return (
        measure(model, x, mean, log_var),
        measure(model, x, *refined),
        refined,
        seconds,
    )


def _same_test_set(model: LoadedModel, x_test: np.ndarray, y_test: np.ndarray) -> bool:
    """Whether data's test images ``(n, ...)`` in [0, 1] and labels ``(n,)`` are
    the folder's (its images compared as they are stored, when it holds them)."""
    if y_test.shape != model.labels.shape or not np.array_equal(y_test, model.labels):
        return False
    if model.test_images is None:
        return True
    stored = images_as_bytes(np.asarray(x_test[: model.test_images.shape[0]]))
    return stored.size == model.test_images.size and np.array_equal(
        stored.reshape(model.test_images.shape), model.test_images
    )


def validation_images(model: LoadedModel, data_path: str | None) -> np.ndarray | None:
    """The folder's validation split ``(n, n_pixels)`` in [0, 1], or None when
    its run held none out. Raises DataError when the data cannot be read."""
    record = model.record
    if not record.train.validation_size:
        return None
    # Folders are read as training read them (the background transparent
    # pixels became).
    with image_folder.reading(record.train.background):
        data = load_for(record.train, data_path)
    if not _same_test_set(model, data.x_test, data.y_test):
        raise ValueError(
            f"the data given is not this folder's: its test set differs from the "
            f"{model.labels.size:,} test images the folder holds, so its "
            "validation split would not be the one the run held out"
        )
    _, rows = validation_split(data.x_train.shape[0], record.train.validation_size)
    return data.x_train[rows].reshape(rows.size, -1).astype(np.float32)


def refined_metrics(
    metrics: dict[str, Any],
    test: tuple[Figure, Figure],
    val: tuple[Figure, Figure] | None,
) -> dict[str, Any]:
    """metrics.json with the refined figures in place of the encoder's, the
    encoder's kept as ``encoder_*`` and the figures of the earlier q dropped."""
    out = {k: v for k, v in metrics.items() if k not in STALE_KEYS}
    for prefix, pair in (("test", test), ("val", val)):
        if pair is None:
            continue
        encoder, refined = pair
        out[f"encoder_{prefix}_neg_elbo"] = encoder.neg_elbo
        out[f"{prefix}_recon"], out[f"{prefix}_kl"] = refined.recon, refined.kl
        out[f"{prefix}_neg_elbo"] = refined.neg_elbo
    return out


def figure_line(name: str, pair: tuple[Figure, Figure], seconds: float) -> str:
    """One line on ``pair`` (the encoder's figure, the refined one) of the
    ``name`` images, with the refinement's ``seconds`` per image."""
    encoder, refined = pair
    return (
        f"{name} ({encoder.images:,} images): -ELBO with the encoder "
        f"{encoder.neg_elbo:.2f}, refined {refined.neg_elbo:.2f} (recon "
        f"{refined.recon:.2f} + KL {refined.kl:.2f}), "
        f"{encoder.neg_elbo - refined.neg_elbo:.2f} nats less; "
        f"{seconds * 1000:.1f} ms per image"
    )


def refine_folder(
    model: LoadedModel, config: RefineConfig, x_validation: np.ndarray | None
) -> list[str]:
    """Refine the q of ``model``'s test images with ``config`` and store it in
    its folder with the refined figures (:func:`vaeapp.store.writing.write_posterior`);
    ``x_validation`` ``(n, ...)`` in [0, 1] is the run's validation split, or
    None. Returns the lines to print. Raises ValueError or ModelFolderError."""
    if model.test_images is None:
        raise ValueError("this folder holds no test images to refine")
    if not model.stored_all_images:
        raise ValueError(
            f"this folder stores the pixels of {model.test_images.shape[0]:,} of "
            f"its {model.labels.size:,} test images; refinement needs them all"
        )
    lines, val = [], None
    if x_validation is not None and x_validation.size:
        encoder, refined, _, seconds = compare(model, x_validation, config)
        val = (encoder, refined)
        lines.append(figure_line("validation", val, seconds))
    x_test = model.test_images.astype(np.float32) / 255.0
    encoder, refined, q, seconds = compare(model, x_test, config)
    metrics = refined_metrics(model.record.metrics, (encoder, refined), val)
    write_posterior(model.record.path, *q, metrics, config)
    lines.append(figure_line("test", (encoder, refined), seconds))
    return lines
