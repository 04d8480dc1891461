"""A synthetic model folder of any number of test points, for browser tests
and benchmarks of the map at scale: ``python -m devtools.big_model --points
200000 --out /tmp/big`` (then ``VAEAPP_HOME=/tmp``).

The model is a small dense VAE with random weights
(:func:`devtools.weights.write_random_weights`). Its test set is drawn, not
encoded: ``classes`` clusters in latent space (means stored as float16, as a
folder of a million points stores them), a 2-D ``umap`` plane that keeps
the clusters apart, per-image figures that grow with the distance from the
cluster centre, and, with ``images``, test images that are the model's own
decodings of the means, quantised (so the real image under the pointer
matches the decoded one up to rounding), each named ``img-<index>.png``.

With ``stored`` the folder keeps the pixels of its first ``stored`` images
only, as a trained folder of more than MAX_TEST_IMAGES does; with
``cache_root`` every image also goes into a data cache there (as
:mod:`vaeapp.data.folder_cache` writes one, rows shuffled), which the
folder names, so that a server with ``VAEAPP_CACHE_DIR=cache_root`` shows
all of them.
"""

from __future__ import annotations

import argparse
import hashlib
import json
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from devtools.weights import write_random_weights
from vaeapp.core.config import ModelConfig, TrainConfig
from vaeapp.data.folder_cache import IMAGES_FILE, INDEX_FILE, CacheIndex
from vaeapp.inference.numpy_vae import load_numpy_vae
from vaeapp.store.format import (
    CACHE_ROWS_KEY,
    CONFIG_FILE,
    FIGURES_FILE,
    IMAGE_CACHE_KEY,
    IMAGES_KEY,
    LATENTS_FILE,
    METRICS_FILE,
    NAMES_KEY,
    PLANES_FILE,
    UMAP_KEY,
    WEIGHTS_FILE,
    images_as_bytes,
)
from vaeapp.store.writing import config_document

DATASET = "synthetic"  # an own data set's name: no shipped test set applies
DECODE_ROWS = 50_000  # images decoded at a time


def big_model_folder(
    folder: Path,
    points: int,
    latent_dim: int = 8,
    classes: int = 10,
    images: bool = True,
    seed: int = 0,
    stored: int | None = None,
    cache_root: Path | None = None,
) -> Path:
    """Write a model folder of ``points`` test images to ``folder`` (created;
    files in it are replaced) and return it. Label ``k`` is class ``digit-k``;
    image ``i``'s cluster is ``i % classes``. ``stored``: the pixels of the
    first this many only (None: all); ``cache_root``: every image in a data
    cache there, named by the folder (see the module's docstring)."""
    rng = np.random.default_rng(seed)
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    model = ModelConfig(hidden=(64,), latent_dim=latent_dim)
    train = TrainConfig(dataset=DATASET, epochs=1)
    write_random_weights(folder / WEIGHTS_FILE, model, rng)
    labels = (np.arange(points) % classes).astype(np.uint8)
    centres = rng.normal(0.0, 2.0, (classes, latent_dim))
    offset = rng.normal(0.0, 0.6, (points, latent_dim))
    mean = (centres[labels] + offset).astype(np.float16)
    log_var = np.full((points, latent_dim), -2.0, np.float16)
    angle = 2 * np.pi * labels / classes
    ring = 10.0 * np.stack([np.cos(angle), np.sin(angle)], axis=1)
    plane = (ring + rng.normal(0.0, 1.2, (points, 2))).astype(np.float32)
    spread = np.square(offset).sum(axis=1)
    recon = (60.0 + 8.0 * spread + rng.gamma(2.0, 5.0, points)).astype(np.float32)
    kl = (0.5 * np.square(mean.astype(np.float32)).sum(axis=1) + 4.0).astype(np.float32)
    arrays = {"mean": mean, "log_var": log_var, "labels": labels}
    cache_name = None
    if images:
        vae = load_numpy_vae(folder / WEIGHTS_FILE, model)
        pictures = np.empty((points, model.n_pixels), np.uint8)
        for start in range(0, points, DECODE_ROWS):
            rows = slice(start, start + DECODE_ROWS)
            pictures[rows] = images_as_bytes(vae.decode(mean[rows]))
        shaped = pictures.reshape(points, *model.image_shape)
        arrays[IMAGES_KEY] = shaped[: points if stored is None else stored]
        arrays[NAMES_KEY] = np.array([f"img-{i}.png" for i in range(points)])
        if cache_root is not None:
            cache_name, arrays[CACHE_ROWS_KEY] = write_cache(
                Path(cache_root), shaped, f"{seed}-{points}", rng
            )
    np.savez(folder / LATENTS_FILE, **arrays)
    np.savez(folder / PLANES_FILE, **{UMAP_KEY: plane})
    np.savez(folder / FIGURES_FILE, elbo=recon + kl, recon=recon, kl=kl)
    data = {
        "class_names": [f"digit-{k}" for k in range(classes)],
        "factor_names": None,
        "train_images": 0,
    }
    if cache_name is not None:
        data[IMAGE_CACHE_KEY] = cache_name
    document = config_document(model, train, f"synthetic, seed {seed}", data)
    (folder / CONFIG_FILE).write_text(json.dumps(document, indent=1))
    neg_elbo = float(np.mean(recon + kl, dtype=np.float64))
    (folder / METRICS_FILE).write_text(
        json.dumps({"test_neg_elbo": neg_elbo, "history": []})
    )
    return folder


def write_cache(
    root: Path, images: np.ndarray, key: str, rng: np.random.Generator
) -> tuple[str, np.ndarray]:
    """A complete data cache of ``images`` ``(n, h, w, 1)`` uint8 under
    ``root/folders`` in a shuffled row order, named from ``key`` as a folder
    cache is (digest, size, colour, background): ``(name, rows)``, image
    ``i`` at cache row ``rows[i]``."""
    n, height, width, _ = images.shape
    digest = hashlib.sha256(key.encode()).hexdigest()[:32]
    name = f"{digest}-{width}x{height}-grey-black"
    folder = root / "folders" / name
    folder.mkdir(parents=True, exist_ok=True)
    rows = rng.permutation(n)
    shuffled = np.empty_like(images)
    shuffled[rows] = images
    np.save(folder / IMAGES_FILE, shuffled)
    index = CacheIndex(n, n, 0, None, 0, True, ((width, height),))
    (folder / INDEX_FILE).write_text(index.as_json())
    return name, rows


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m devtools.big_model",
        description="Write a synthetic model folder of many test points.",
    )
    parser.add_argument("--out", type=Path, required=True, help="the folder")
    parser.add_argument("--points", type=int, default=200_000)
    parser.add_argument("--latent-dim", type=int, default=8)
    parser.add_argument("--no-images", action="store_true", help="store no images")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--stored", type=int, default=None, help="store the first N images only"
    )
    parser.add_argument(
        "--cache-root", type=Path, default=None, help="also write a data cache here"
    )
    args = parser.parse_args(argv)
    big_model_folder(
        args.out,
        args.points,
        args.latent_dim,
        images=not args.no_images,
        seed=args.seed,
        stored=args.stored,
        cache_root=args.cache_root,
    )
    print(args.out)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
