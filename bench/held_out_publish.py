"""What publishing costs when the map holds every held-out image of a big
image folder: time, folder size, and the pictures read back from its cache.

Command line: ``python -m bench.held_out_publish [--images 200000]
[--test-share 0.5] [--latent-dim 2] [--work DIR]``.

Writes ``--images`` 28x28 grey PNGs (random blocks, once, under ``--work``),
reads them as a streamed folder (its cache is built on the first run), and
publishes an untrained dense VAE (784-64-d, random weights: the costs do not
depend on training) as a trained run would: every held-out image encoded,
the test figures on the first MAX_TEST_IMAGES, then ``save_result`` (weights,
latents of all, pixels of the first MAX_TEST_IMAGES, per-image figures of all
in streamed parts, and for d > 2 the UMAP plane). Prints the seconds of each
step, the folder's size and ``latents.npz``'s, ``load_model``'s seconds, and
the time to read a hover chunk of images beyond the stored ones from the
cache. Uses ``$VAEAPP_CACHE_DIR`` (default ``--work/cache``).
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np

SIDE = 28


def write_folder(folder: Path, count: int, seed: int = 0) -> None:
    """``count`` PNGs ``img-<i>.png`` of 4x4 random grey blocks (kept when
    the folder already holds that many)."""
    from PIL import Image

    folder.mkdir(parents=True, exist_ok=True)
    if len(os.listdir(folder)) == count:
        return
    rng = np.random.default_rng(seed)
    for i in range(count):
        blocks = rng.integers(0, 256, (SIDE // 4, SIDE // 4), np.uint8)
        pixels = np.kron(blocks, np.ones((4, 4), np.uint8))
        Image.fromarray(pixels).save(folder / f"img-{i:07d}.png")


def _timed(label: str, work, *args, **kwargs):
    started = time.perf_counter()
    value = work(*args, **kwargs)
    print(f"{label}: {time.perf_counter() - started:.1f} s", flush=True)
    return value


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.held_out_publish")
    parser.add_argument("--images", type=int, default=200_000)
    parser.add_argument("--test-share", type=float, default=0.5)
    parser.add_argument("--latent-dim", type=int, default=2)
    parser.add_argument("--work", type=Path, default=None)
    args = parser.parse_args(argv)
    work = args.work or Path(tempfile.mkdtemp(prefix="held-out-"))
    os.environ.setdefault("VAEAPP_CACHE_DIR", str(work / "cache"))

    from vaeapp.core.config import ModelConfig, TrainConfig
    from vaeapp.data.sources import MAX_TEST_IMAGES, load_dataset
    from vaeapp.model.vae import VAE
    from vaeapp.store.format import LATENTS_FILE
    from vaeapp.store.reading import load_model
    from vaeapp.store.writing import folder_bytes
    from vaeapp.train.loop import TrainResult, encode_all, evaluate
    from vaeapp.train.publish import save_result
    from vaeapp.web.image_chunks import CHUNK_IMAGES, image_chunk

    images = work / "images"
    _timed(f"write {args.images:,} PNGs", write_folder, images, args.images)
    data = _timed(
        "read the folder (cache)",
        load_dataset,
        "bench",
        images,
        test_share=args.test_share,
    )
    held = len(data.x_test)
    print(f"held out: {held:,} images")
    model_config = ModelConfig(hidden=(64,), latent_dim=args.latent_dim)
    config = TrainConfig(dataset="bench", epochs=1)
    model = VAE(model_config)
    model.compile()
    mean, log_var = _timed(
        "encode every held-out image", encode_all, model, data.x_test
    )
    test = _timed(
        f"test figures (first {MAX_TEST_IMAGES:,})",
        evaluate,
        model,
        np.asarray(data.x_test[:MAX_TEST_IMAGES]),
    )
    result = TrainResult(
        model=model,
        model_config=model_config,
        train_config=config,
        data_source="bench: generated PNGs",
        history=[],
        test_metrics=test,
        latent_mean=mean,
        latent_log_var=log_var,
        labels=data.y_test,
        snapshots={},
        test_images=data.x_test,
        file_names=data.names_test,
    )
    name = f"held-{held}"
    folder = _timed("save_result (publish)", save_result, result, work / "runs", name)
    print(f"folder: {folder_bytes(folder) / 1e6:.1f} MB")
    print(f"latents.npz: {(folder / LATENTS_FILE).stat().st_size / 1e6:.1f} MB")
    loaded = _timed("load_model", load_model, folder)
    print(f"points: {loaded.labels.size:,}, with pictures here: {loaded.image_count:,}")
    last = (loaded.image_count - 1) // CHUNK_IMAGES
    _timed("hover chunk beyond the stored images", image_chunk, loaded, last)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
