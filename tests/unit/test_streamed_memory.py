"""A streamed run's memory does not grow with the folder's size: the training
command's peak resident memory on 1,000 and on 5,000 PNG images of 64x64x3."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from PIL import Image

from vaeapp.data.shapes import SHAPE_NAMES, generate

REPO_ROOT = Path(__file__).resolve().parents[2]
# 4,000 more images of 64x64x3 are 197 MB as float32, and the in-memory
# reader held them at least twice (decoded, then split). Streamed, only the
# held-out test images grow with the folder (1%: 40 more, 2 MB as float32);
# the batches queued ahead are as many in both runs (chunks of 2 batches of
# 50: 5 MB each, the queue full in both). 50 MB leaves room for the
# allocator's and TensorFlow's run-to-run noise.
GROWTH_BOUND_MB = 50

# Runs the command in this process and prints its peak resident memory (kB).
_MEASURE = (
    "import resource, runpy, sys\n"
    "sys.argv = ['vaeapp.train', *sys.argv[1:]]\n"
    "try:\n"
    "    runpy.run_module('vaeapp.train', run_name='__main__')\n"
    "except SystemExit as stop:\n"
    "    assert not stop.code, stop.code\n"
    "print('peak', resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)\n"
)


def _folder(root: Path, count: int) -> Path:
    images, factors = generate(count, seed=5, side=64)
    for name in SHAPE_NAMES:
        (root / name).mkdir(parents=True)
    for i, (image, row) in enumerate(zip(images, factors, strict=True)):
        Image.fromarray(image).save(root / SHAPE_NAMES[int(row[0])] / f"{i:05d}.png")
    return root


def _peak_mb(folder: Path, out: Path) -> float:
    command = [
        *(sys.executable, "-c", _MEASURE, "--data", str(folder), "--out", str(out)),
        *("--epochs", "1", "--hidden", "16", "--latent-dim", "2", "--quiet"),
        *("--batch-size", "50", "--validation-size", "0", "--no-jit", "--name", "m"),
        *("--test-share", "0.01", "--steps-per-execution", "2"),
    ]
    done = subprocess.run(
        command, cwd=REPO_ROOT, capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stderr[-2000:]
    return int(done.stdout.split("peak")[-1]) / 1024


def test_peak_memory_of_a_streamed_run_does_not_grow_with_the_folder(tmp_path):
    """Five times the images: the peak grows by less than GROWTH_BOUND_MB."""
    small = _peak_mb(_folder(tmp_path / "small", 1000), tmp_path / "out-small")
    large = _peak_mb(_folder(tmp_path / "large", 5000), tmp_path / "out-large")
    assert large - small < GROWTH_BOUND_MB, (small, large)
