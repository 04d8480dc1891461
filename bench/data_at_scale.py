"""Benchmark training on an image folder far larger than memory should hold.

Command lines::

    python -m bench.data_at_scale generate --out /work/bench-data/shapes200k
    python -m bench.data_at_scale run --data /work/bench-data/shapes200k

``generate`` writes ``--count`` (200,000) PNG images of 64x64x3 drawn by
:mod:`vaeapp.data.shapes`, one subfolder per shape (the four classes), in
parallel worker processes; a file already there is kept, so an interrupted
generation continues.
"""

from __future__ import annotations

import argparse
import os
import time
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

from PIL import Image

from vaeapp.data.shapes import SHAPE_NAMES, generate

GENERATE_COUNT = 200_000
GENERATE_SIDE = 64
GENERATE_SEED = 27
_PART = 2_000  # images per generation task


def _write_part(out: str, first: int, count: int, side: int) -> int:
    """Draw images ``first .. first + count`` and write those not yet there."""
    images, factors = generate(count, GENERATE_SEED + first, side)
    written = 0
    for offset, (image, row) in enumerate(zip(images, factors, strict=True)):
        folder = Path(out) / SHAPE_NAMES[int(row[0])]
        path = folder / f"{first + offset:08d}.png"
        if path.exists():
            continue
        temporary = folder / f".{path.name}.tmp"
        Image.fromarray(image).save(temporary, format="PNG")
        os.replace(temporary, path)
        written += 1
    return written


def generate_folder(out: Path, count: int, side: int, workers: int) -> int:
    """Write the folder; returns how many files were written now."""
    for name in SHAPE_NAMES:
        (out / name).mkdir(parents=True, exist_ok=True)
    starts = range(0, count, _PART)
    with ProcessPoolExecutor(workers) as pool:
        done = pool.map(
            _write_part,
            [str(out)] * len(starts),
            starts,
            [min(_PART, count - s) for s in starts],
            [side] * len(starts),
        )
        return sum(done)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the benchmark command ``argv`` (see the module docstring)."""
    parser = argparse.ArgumentParser(prog="python -m bench.data_at_scale")
    commands = parser.add_subparsers(dest="command", required=True)
    make = commands.add_parser("generate", help="write the PNG folder")
    make.add_argument("--out", type=Path, required=True)
    make.add_argument("--count", type=int, default=GENERATE_COUNT)
    make.add_argument("--side", type=int, default=GENERATE_SIDE)
    make.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    args = parser.parse_args(argv)
    start = time.perf_counter()
    written = generate_folder(args.out, args.count, args.side, args.workers)
    print(f"wrote {written:,} files in {time.perf_counter() - start:.0f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
