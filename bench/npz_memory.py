"""Peak memory of reading an ``.npz`` of training images: streamed and in memory.

Command line::

    python -m bench.npz_memory --count 30000 --out /tmp/npz-memory

writes ``--count`` uint8 images of 64x64x3 (random pixels; with 1,000
``x_test`` images and labels) once as ``np.savez`` (stored: read in place) and
once as ``np.savez_compressed`` (deflated: inflated into the cache), then, each
in a fresh Python process, loads the file with
:func:`vaeapp.data.sources.load_dataset` and reads every training image once,
as float32 batches of BATCH images (what the training batches do), and prints
the file's size, the seconds and the process's peak resident memory
(``VmHWM``: :func:`peak_kb`). The compressed file is read twice: with an
empty cache folder (cold: the cache is made) and again (warm). ``--in-memory`` adds the
in-memory reader (``stream=False``) on the stored file for reference; it
needs about 6 bytes of memory per pixel.
"""

from __future__ import annotations

import argparse
import json
import resource
import shutil
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np

REPO_ROOT = Path(__file__).resolve().parents[1]
SIDE = 64
TEST_IMAGES = 1_000
BATCH = 500


def write_set(
    path: Path, count: int, compressed: bool, seed: int = 0, plain: bool = False
) -> Path:
    """An .npz at ``path`` of ``count`` random uint8 images ``(64, 64, 3)``
    with labels, and copies of the first TEST_IMAGES of them as the test
    images (np.savez_compressed when
    ``compressed``). ``plain``: the training images are black but for one
    pixel each (quick to compress, for tests)."""
    rng = np.random.default_rng(seed)
    shape = (count, SIDE, SIDE, 3)
    if plain:
        x_train = np.zeros(shape, np.uint8)
        x_train[:, 0, 0, 0] = np.arange(count) % 256
    else:
        x_train = rng.integers(0, 256, shape, dtype=np.uint8)
    arrays = {
        "x_train": x_train,
        "y_train": rng.integers(0, 10, count).astype(np.uint8),
        "x_test": x_train[:TEST_IMAGES].copy(),
        "y_test": rng.integers(0, 10, TEST_IMAGES).astype(np.uint8),
    }
    (np.savez_compressed if compressed else np.savez)(path, **arrays)
    return path


def read_all(path: Path, cache: Path, stream: bool) -> dict[str, float]:
    """Load ``path`` and read every training image once in float32 batches
    of BATCH: the images, seconds and this process's peak memory (MB)."""
    from vaeapp.data.sources import load_dataset

    start = time.perf_counter()
    data = load_dataset("bench", path, stream=stream, cache_dir=cache)
    total = 0.0
    count = len(data.x_train)
    for first in range(0, count, BATCH):
        batch = np.asarray(data.x_train[np.arange(first, min(first + BATCH, count))])
        total += float(batch[:, 0].sum())  # touch what was read
    return {
        "images": len(data.x_train),
        "seconds": round(time.perf_counter() - start, 2),
        "peak_mb": round(peak_kb() / 1024, 1),
    }


def peak_kb() -> int:
    """This process's peak resident memory in kB: ``VmHWM``, its own memory's
    high-water mark. ``ru_maxrss`` would do but for one catch: exec keeps the
    parent's peak in it (Linux), so a child of a process that generated a
    large file reports at least the parent's memory."""
    status = Path("/proc/self/status")
    if status.exists():
        for line in status.read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def measure(path: Path, cache: Path, stream: bool = True) -> dict[str, float]:
    """:func:`read_all` in a fresh Python process."""
    command = [sys.executable, "-m", "bench.npz_memory", "read", str(path)]
    command += ["--cache", str(cache)] + ([] if stream else ["--in-memory"])
    done = subprocess.run(
        command, cwd=REPO_ROOT, capture_output=True, text=True, check=False
    )
    if done.returncode:
        raise RuntimeError(done.stderr[-2000:])
    return json.loads(done.stdout.strip().splitlines()[-1])


def main(argv: Sequence[str] | None = None) -> None:
    """Write the two files, read each in a fresh process, print one line each."""
    parser = argparse.ArgumentParser(prog="python -m bench.npz_memory")
    parser.add_argument("mode", nargs="?", choices=["run", "read"], default="run")
    parser.add_argument("path", nargs="?", type=Path)
    parser.add_argument("--count", type=int, default=30_000)
    parser.add_argument("--out", type=Path, default=Path("/tmp/npz-memory"))
    parser.add_argument("--cache", type=Path)
    parser.add_argument("--in-memory", action="store_true")
    args = parser.parse_args(argv)
    if args.mode == "read":
        print(json.dumps(read_all(args.path, args.cache, not args.in_memory)))
        return
    args.out.mkdir(parents=True, exist_ok=True)
    cache = args.out / "cache"
    shutil.rmtree(cache, ignore_errors=True)
    stored = write_set(args.out / "stored.npz", args.count, False)
    packed = write_set(args.out / "compressed.npz", args.count, True)
    runs = [
        ("stored, streamed", stored, True),
        ("compressed, streamed, cold", packed, True),
        ("compressed, streamed, warm", packed, True),
    ]
    if args.in_memory:
        runs.append(("stored, in memory", stored, False))
    for name, path, stream in runs:
        size = path.stat().st_size / 1e6
        found = measure(path, cache, stream)
        print(f"{name}: file {size:,.0f} MB, {json.dumps(found)}", flush=True)


if __name__ == "__main__":
    main()
