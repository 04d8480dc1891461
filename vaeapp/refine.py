"""Refine a model folder's q(z|x) per image: ``python -m vaeapp.refine``.

Prints the negative ELBO of the folder's validation split (the training images
its run held out) with the encoder's q and with q refined per image
(:mod:`vaeapp.refinement`), so the refinement's settings are chosen there.
``--write`` then refines the folder's test images and stores the result: the
refined q in latents.npz (the map), the refined figures in metrics.json (the
encoder's kept under ``encoder_*``) and the settings in config.json, which the
page then applies to every image it encodes. The importance-weighted and 5-NN
figures of the earlier q are dropped: rerun ``python -m vaeapp.evaluate
--write``.
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
import time
from collections.abc import Sequence
from typing import Any

import numpy as np

from vaeapp import image_folder, safe_json
from vaeapp.config import RefineConfig, settings
from vaeapp.data import DataError, load_for
from vaeapp.evaluate import (
    IWAE_IMAGES_KEY,
    IWAE_KEY,
    IWAE_SAMPLES_KEY,
    IWAE_SE_KEY,
    KNN_KEY,
)
from vaeapp.options import add_setting, given_settings
from vaeapp.refinement import check_refinable, neg_elbo, refine
from vaeapp.store import (
    MODEL_HELP,
    LoadedModel,
    ModelFolderError,
    find_model,
    images_as_bytes,
    load_model,
    write_posterior,
)
from vaeapp.training import EVAL_SAMPLES, validation_split

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
    stored = images_as_bytes(x_test)
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


def build_parser() -> argparse.ArgumentParser:
    """The command line; the refinement's options come from RefineConfig."""
    parser = argparse.ArgumentParser(
        prog="python -m vaeapp.refine",
        description="Refine a model folder's q(z|x) per image with Adam steps on "
        "each image's negative ELBO; print the validation split's figures, "
        "and with --write store the refined test set and settings.",
    )
    parser.add_argument("--model", required=True, help=MODEL_HELP)
    parser.add_argument(
        "--data", default=None, help="the model's data set (file or folder)"
    )
    group = parser.add_argument_group("refinement")
    for field, spec in settings(RefineConfig):
        add_setting(group, field, spec)
    parser.add_argument(
        "--write", action="store_true", help="refine the test set and store it"
    )
    return parser


def _line(name: str, pair: tuple[Figure, Figure], seconds: float) -> str:
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
    its folder with the refined figures (:func:`vaeapp.store.write_posterior`);
    ``x_validation`` ``(n, ...)`` in [0, 1] is the run's validation split, or
    None. Returns the lines to print. Raises ValueError or ModelFolderError."""
    if model.test_images is None:
        raise ValueError("this folder holds no test images to refine")
    lines, val = [], None
    if x_validation is not None and x_validation.size:
        encoder, refined, _, seconds = compare(model, x_validation, config)
        val = (encoder, refined)
        lines.append(_line("validation", val, seconds))
    x_test = model.test_images.astype(np.float32) / 255.0
    encoder, refined, q, seconds = compare(model, x_test, config)
    metrics = refined_metrics(model.record.metrics, (encoder, refined), val)
    write_posterior(model.record.path, *q, metrics, config)
    lines.append(_line("test", (encoder, refined), seconds))
    return lines


def run(args: argparse.Namespace) -> list[str]:
    """Do what ``args`` ask; return the lines to print. Raises ValueError,
    DataError, ModelFolderError or OSError."""
    config = RefineConfig(**given_settings(RefineConfig, args))
    folder = find_model(args.model)
    model = load_model(folder)
    check_refinable(model.vae)
    lines = [
        f"{folder.name}: {config.steps} steps, rate {config.learning_rate:g}, "
        f"{config.draws} draws"
    ]
    x_val = validation_images(model, args.data)
    if args.write:
        lines += refine_folder(model, config, x_val)
        lines.append(
            "written; rerun python -m vaeapp.evaluate --write for the IWAE and "
            "5-NN figures of the refined q"
        )
    elif x_val is None:
        lines.append("validation: none (the run held no images out)")
    else:
        encoder, refined, _, seconds = compare(model, x_val, config)
        lines.append(_line("validation", (encoder, refined), seconds))
    return lines


def main(argv: Sequence[str] | None = None) -> int:
    """The command line; returns the exit status (2 for bad arguments, data or
    folders)."""
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        lines = run(args)
    except (ValueError, DataError, ModelFolderError, OSError) as error:
        parser.exit(2, f"{parser.prog}: error: {safe_json.one_line(error, 300)}\n")
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
