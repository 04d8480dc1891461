"""How long the page takes to encode one picture, with and without refining q.

Command line: ``python bench/refine_speed.py [--model NAME_OR_FOLDER]
[--steps 20,50] [--runs 21] [--blas-reference]``.

Encodes one test image of the model's folder with its encoder alone and with
q refined per image (:mod:`vaeapp.inference.refinement`) for each ``--steps`` (the
folder's other refine settings, or the defaults), alternating the variants
run by run, and prints each one's median and quartiles in milliseconds: what
a drawn or uploaded picture costs the page before it is cached.
``--blas-reference`` adds, for each step count, the refinement with BLAS left
at its own threads (without ``blocks.SMALL_PRODUCTS``), the reference the
one-thread limit is measured against (run it beside ``bench/load_test.py``
for the figure under load).
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import functools
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def main(argv: list[str] | None = None) -> None:
    """Parse the options, time every variant, print the figures."""
    from vaeapp.core.config import RefineConfig
    from vaeapp.inference import refinement
    from vaeapp.inference.refinement import refine
    from vaeapp.store.listing import find_model
    from vaeapp.store.reading import load_model

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="mnist-wide")
    parser.add_argument("--steps", default="20,50")
    parser.add_argument("--runs", type=int, default=21)
    parser.add_argument(
        "--blas-reference",
        action="store_true",
        help="also refine with BLAS on its own threads, alternated",
    )
    args = parser.parse_args(argv)
    model = load_model(find_model(args.model))
    base = model.record.refine or RefineConfig()
    x = model.test_images[:1].astype(np.float32) / 255.0

    def encoder() -> None:
        model.vae.encode(x)

    variants = {"encoder alone": encoder}
    for steps in (int(s) for s in args.steps.split(",")):
        config = dataclasses.replace(base, steps=steps)
        variants[f"refined, {steps} steps"] = lambda config=config: refine(
            model.vae, x, *model.vae.encode(x), config
        )
        if args.blas_reference:
            variants[f"refined, {steps} steps, BLAS threads"] = functools.partial(
                _without_limit, refinement, variants[f"refined, {steps} steps"]
            )
    times: dict[str, list[float]] = {name: [] for name in variants}
    for _ in range(args.runs):
        for name, run in variants.items():
            started = time.perf_counter()
            run()
            times[name].append(1000 * (time.perf_counter() - started))
    print(f"{model.record.name}, one image, {args.runs} runs alternated:")
    for name, values in times.items():
        q1, median, q3 = np.percentile(values, [25, 50, 75])
        print(f"  {name}: median {median:.1f} ms (quartiles {q1:.1f}-{q3:.1f})")


def _without_limit(refinement, run) -> None:
    """``run()`` with refinement's one-BLAS-thread limit lifted."""
    held = refinement.SMALL_PRODUCTS
    refinement.SMALL_PRODUCTS = contextlib.nullcontext()
    try:
        run()
    finally:
        refinement.SMALL_PRODUCTS = held


if __name__ == "__main__":
    main()
