"""Two processes on localhost train on a streamed image folder through the real
command: each decodes its own chunks of the cache, and one model folder is
published."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
from mp_helpers import finish_group, needs_jax, start_group
from PIL import Image

from vaeapp.data.folder_cache import INDEX_FILE, CacheIndex
from vaeapp.data.folder_index import list_folder
from vaeapp.store.reading import load_model

pytestmark = needs_jax


def _folder(root: Path, count: int) -> Path:
    """``count`` grey 16x16 PNGs in two class subfolders."""
    rng = np.random.default_rng(0)
    for name in ("a", "b"):
        (root / name).mkdir(parents=True)
    for i in range(count):
        pixels = rng.integers(0, 256, (16, 16), dtype=np.uint8)
        Image.fromarray(pixels).save(root / "ab"[i % 2] / f"{i:04d}.png")
    return root


def test_two_processes_train_on_a_streamed_folder_and_publish_once(tmp_path):
    """Both exit 0, the cache is complete with every file, and exactly one
    model folder is published with the folder's classes."""
    folder = _folder(tmp_path / "pics", 400)
    common = (
        *("--data", str(folder), "--hidden", "16", "--grid-size", "2"),
        *("--epochs", "1", "--batch-size", "10", "--name", "m"),
        *("--out", str(tmp_path / "out")),
    )
    results = finish_group(start_group(common))
    for status, _, err in results:
        assert status == 0, err[-2000:]
    assert [p.name for p in (tmp_path / "out").iterdir()] == ["m"]
    model = load_model(tmp_path / "out" / "m")
    assert model.class_names == ("a", "b")
    cache_dir = Path(os.environ["VAEAPP_CACHE_DIR"]) / "folders"
    digest = list_folder(folder).digest[:32]
    (cache,) = [p for p in cache_dir.iterdir() if p.name.startswith(digest)]
    index = CacheIndex.from_json((cache / INDEX_FILE).read_text())
    assert (index.files, index.usable) == (400, 400)
