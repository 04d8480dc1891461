"""The figures papers report for a model folder: ``python -m vaeapp.evaluate``.

Computes, in NumPy, on the folder's held-out test images:

- an importance-weighted estimate of ``-log p(x)`` (the IWAE bound, Burda et
  al. 2016) with ``--samples`` draws per image, averaged over the images, with
  its standard error;
- the accuracy of a 5-nearest-neighbour vote on the map (the 2-D latent
  space, or the PCA plane of a larger one): how well the classes separate;
- with ``--map``, what the map shows for folders written before publishing
  made them (:mod:`vaeapp.explore.planes`): each test image's -ELBO and its
  terms and, for more than two latent dimensions, the UMAP plane, with its
  5-NN accuracy and the seconds it took.

``--write`` adds the figures to the folder's ``metrics.json`` (replaced
atomically), so the sidebar, the compare view and the README show them, and
the map's arrays to its ``figures.npz`` and ``planes.npz``.
"""

from __future__ import annotations

import argparse
import math
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from vaeapp.core import safe_json
from vaeapp.core.options import CommandParser
from vaeapp.explore.planes import MapData, map_data
from vaeapp.explore.projection import pca_plane
from vaeapp.explore.scores import (
    KNN_K,
    SAMPLES_MAX,
    iwae_nll,
    knn_accuracy,
    majority_baseline,
)
from vaeapp.store.format import (
    IWAE_IMAGES_KEY,
    IWAE_KEY,
    IWAE_SAMPLES_KEY,
    IWAE_SE_KEY,
    KNN_KEY,
    KNN_UMAP_KEY,
    MAX_JSON_BYTES,
    METRICS_FILE,
    UMAP_KEY,
    UMAP_SECONDS_KEY,
    ModelFolderError,
)
from vaeapp.store.listing import MODEL_HELP, find_model
from vaeapp.store.reading import check_metrics, load_model
from vaeapp.store.records import LoadedModel
from vaeapp.store.writing import write_json, write_map_files

DEFAULT_SAMPLES = 1000


@dataclass(frozen=True)
class Figures:
    """``iwae_nll``: mean importance-weighted ``-log p(x)`` estimate in nats over
    ``images`` test images with ``samples`` draws each, ``iwae_se`` its standard
    error (both None with ``samples`` 0: not estimated); ``knn_accuracy`` in
    [0, 1] (None without labels); ``map`` the map's arrays (None without
    ``--map``) and ``knn_umap`` the 5-NN accuracy on its UMAP plane (None
    without one or without labels)."""

    iwae_nll: float | None
    iwae_se: float | None
    samples: int
    images: int
    knn_accuracy: float | None
    map: MapData | None = None
    knn_umap: float | None = None

    def as_metrics(self) -> dict[str, float | int]:
        """The figures under their metrics.json keys."""
        out: dict[str, float | int] = {}
        if self.iwae_nll is not None and self.iwae_se is not None:
            out.update(
                {
                    IWAE_KEY: self.iwae_nll,
                    IWAE_SE_KEY: self.iwae_se,
                    IWAE_SAMPLES_KEY: self.samples,
                    IWAE_IMAGES_KEY: self.images,
                }
            )
        if self.knn_accuracy is not None:
            out[KNN_KEY] = self.knn_accuracy
        if self.knn_umap is not None:
            out[KNN_UMAP_KEY] = self.knn_umap
        if self.map is not None and self.map.planes:
            out[UMAP_SECONDS_KEY] = round(self.map.plane_seconds, 1)
        return out


def map_points(model: LoadedModel) -> np.ndarray:
    """The test set on the model's map ``(n, 2)``: its 2-D latent means, or
    their PCA plane for a larger latent space (the page's default view)."""
    if model.latent_mean.shape[1] == 2:
        return np.asarray(model.latent_mean, np.float64)
    return pca_plane(model.latent_mean).coords(model.latent_mean)


def compute(
    model: LoadedModel,
    samples: int,
    images: int = 0,
    seed: int = 0,
    with_map: bool = False,
) -> Figures:
    """IWAE (``samples`` > 0) and 5-NN figures of ``model`` on its first
    ``images`` test images (0: all it stores the pixels of); with ``with_map``
    also the map's arrays (all test images). Raises ValueError if the folder
    holds no test images."""
    if model.test_images is None:
        raise ValueError(
            "this folder holds no test images (its data set's shipped test "
            "set is missing), so nothing can be evaluated"
        )
    x = model.test_images[: images or None]
    # q as the folder defines it: its stored means and log-variances of the
    # test images (refined per image, when the folder says so).
    q = (model.latent_mean[: x.shape[0]], model.latent_log_var[: x.shape[0]])
    nll = iwae_nll(model.vae, x, samples, seed, posterior=q) if samples else None
    labelled = model.record.class_names is not None
    data = map_data(model) if with_map else None
    plane = data.planes.get(UMAP_KEY) if data is not None else None
    return Figures(
        iwae_nll=None if nll is None else float(nll.mean()),
        iwae_se=None
        if nll is None
        else float(nll.std(ddof=1) / math.sqrt(nll.size))
        if nll.size > 1
        else 0.0,
        samples=samples,
        images=int(x.shape[0]),
        knn_accuracy=knn_accuracy(map_points(model), model.labels, KNN_K)
        if labelled
        else None,
        map=data,
        knn_umap=knn_accuracy(plane, model.labels, KNN_K)
        if labelled and plane is not None
        else None,
    )


def write_figures(folder: Path, figures: Figures) -> None:
    """Add ``figures`` to ``folder``'s metrics.json, replacing it atomically,
    and the map's arrays (if computed) to its figures.npz and planes.npz."""
    path = folder / METRICS_FILE
    metrics = check_metrics(safe_json.read(path, MAX_JSON_BYTES))
    write_json(path, {**metrics, **figures.as_metrics()})
    if figures.map is not None:
        write_map_files(folder, figures.map.figures, figures.map.planes)


PROG = "python -m vaeapp.evaluate"


def build_parser(prog: str = PROG) -> argparse.ArgumentParser:
    """The command line, named ``prog`` in its help and errors."""
    parser = CommandParser(
        prog=prog,
        description="Importance-weighted estimate of the test log-likelihood and "
        "5-nearest-neighbour accuracy of the map, for a model folder.",
    )
    parser.add_argument(
        "--model",
        required=True,
        help=MODEL_HELP,
    )
    parser.add_argument(
        "--samples",
        type=int,
        default=DEFAULT_SAMPLES,
        help=f"importance samples per image, 0 (no IWAE estimate) to "
        f"{SAMPLES_MAX} (default: {DEFAULT_SAMPLES})",
    )
    parser.add_argument(
        "--images",
        type=int,
        default=0,
        help="evaluate the first this many test images, 0 for all (default: 0)",
    )
    parser.add_argument("--seed", type=int, default=0, help="seed of the draws")
    parser.add_argument(
        "--map",
        action="store_true",
        help="also compute the map's per-image -ELBO, reconstruction and KL and, "
        "for more than two latent dimensions, its UMAP plane",
    )
    parser.add_argument(
        "--write",
        action="store_true",
        help="add the figures to metrics.json (and the map's to figures.npz and "
        "planes.npz)",
    )
    return parser


def main(argv: Sequence[str] | None = None, prog: str = PROG) -> int:
    """The command line (``prog`` names it); returns the exit status (2 for bad
    arguments or an unusable model folder)."""
    parser = build_parser(prog)
    args = parser.parse_args(argv)
    if not 0 <= args.samples <= SAMPLES_MAX:
        parser.error(f"--samples must be 0 to {SAMPLES_MAX}, got {args.samples}")
    if args.images < 0 or args.seed < 0:
        parser.error("--images and --seed must be 0 or more")
    started = time.perf_counter()
    try:
        folder = find_model(args.model)
        model = load_model(folder)
        figures = compute(model, args.samples, args.images, args.seed, args.map)
        if args.write:
            write_figures(folder, figures)
    except (ValueError, ModelFolderError, OSError) as error:
        parser.exit(2, f"{parser.prog}: error: {safe_json.one_line(error, 300)}\n")
    knn = (
        f"  5-NN accuracy of the map {figures.knn_accuracy:.2%} (majority-class "
        f"baseline {majority_baseline(model.labels):.2%})"
        if figures.knn_accuracy is not None
        else ""
    )
    iwae = (
        f"  IWAE -log p(x) {figures.iwae_nll:.2f} ± {figures.iwae_se:.2f} nats "
        f"(K = {figures.samples}, {figures.images:,} images)"
        if figures.iwae_nll is not None
        else ""
    )
    print(
        f"{model.record.name}: test -ELBO {model.record.test_neg_elbo:.2f}{iwae}"
        f"{knn}{_map_line(figures)}  [{time.perf_counter() - started:.0f} s]"
    )
    return 0


def _map_line(figures: Figures) -> str:
    """What ``--map`` computed, for the printed line."""
    data = figures.map
    if data is None:
        return ""
    text = f"  map: {len(data.figures)} per-image figures"
    if "elbo" in data.figures:
        text += f" (mean -ELBO {float(data.figures['elbo'].mean()):.2f})"
    if data.planes:
        text += f", UMAP plane in {data.plane_seconds:.0f} s"
    if figures.knn_umap is not None:
        text += f", its 5-NN accuracy {figures.knn_umap:.2%}"
    return text


if __name__ == "__main__":
    sys.exit(main())
