"""Time generating the shapes data set.

Command line: ``python bench/shapes_speed.py [--count N] [--side S] [--runs R]``.

Prints the best and median wall-clock seconds over ``--runs`` calls of
``vaeapp.data.shapes.generate(count, seed, side)`` (70,000 images at 32 x 32 by
default, the size of ``load_shapes()``), images per second, and the bytes of
the images. Single process; NumPy's own threads only.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from vaeapp.data.shapes import generate  # noqa: E402


def main(argv: list[str] | None = None) -> None:
    """Parse the options, time ``generate`` and print one line per figure."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=70_000)
    parser.add_argument("--side", type=int, default=32)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args(argv)
    seconds = []
    for run in range(args.runs):
        start = time.perf_counter()
        images, _ = generate(args.count, seed=run, side=args.side)
        seconds.append(time.perf_counter() - start)
    best, median = min(seconds), statistics.median(seconds)
    print(f"{args.count:,} images at {args.side}x{args.side}, {args.runs} runs")
    print(f"best {best:.2f} s, median {median:.2f} s")
    print(f"{args.count / best:,.0f} images/s; {images.nbytes / 2**20:.0f} MiB")


if __name__ == "__main__":
    main()
