"""Which nonlinear plane the map stores: quality and cost of the candidates.

Command line: ``python -m bench.map_plane [--model mnist-20d] [--rounds 2]
[--points 0] [--methods pca,umap,opentsne]``.

For the test set's latent means of ``--model`` (or, with ``--points N``, a
synthetic folder of N points, :mod:`devtools.big_model`), prints for the PCA
plane, umap-learn and openTSNE (each where installed) the leave-one-out 5-NN
accuracy of the classes on the plane and the seconds one fit takes: the first
fit in this process (numba compiles umap-learn's functions then), and the
median of ``--rounds`` fits after it, the methods alternating round by round.
The import of each library is timed on its own (umap-learn imports TensorFlow
through its parametric variant where TensorFlow is installed).
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np


def _umap(means: np.ndarray) -> np.ndarray:
    from vaeapp.explore.planes import umap_plane

    return umap_plane(means)


def _opentsne(means: np.ndarray) -> np.ndarray:
    from openTSNE import TSNE

    return np.asarray(TSNE(random_state=0, n_jobs=1).fit(means), np.float32)


def _pca(means: np.ndarray) -> np.ndarray:
    from vaeapp.explore.projection import pca_plane

    return pca_plane(means).coords(means)


def _imported(module: str) -> float | None:
    """Seconds importing ``module`` took, or None when it is not installed."""
    started = time.perf_counter()
    try:
        __import__(module)
    except ImportError:
        return None
    return time.perf_counter() - started


def main(argv: list[str] | None = None) -> None:
    """Parse the options, fit every method, print the figures."""
    from vaeapp.explore.scores import knn_accuracy
    from vaeapp.store.listing import find_model
    from vaeapp.store.reading import load_model

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="mnist-20d")
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--points", type=int, default=0)
    parser.add_argument("--methods", default="pca,umap,opentsne")
    args = parser.parse_args(argv)
    wanted = set(args.methods.lower().split(","))
    if args.points:
        from devtools.big_model import big_model_folder

        folder = Path(tempfile.mkdtemp()) / "big"
        big_model_folder(folder, args.points, latent_dim=16, images=False)
        model = load_model(folder)
    else:
        model = load_model(find_model(args.model))
    means, labels = model.latent_mean, model.labels
    methods: dict[str, Callable[[np.ndarray], np.ndarray]] = {}
    if "pca" in wanted:
        methods["PCA"] = _pca
    candidates = (("UMAP", "umap", _umap), ("openTSNE", "openTSNE", _opentsne))
    for name, module, fit in candidates:
        if name.lower() not in wanted:
            continue
        seconds = _imported(module)
        if seconds is None:
            print(f"{name}: {module} is not installed")
            continue
        print(f"{name}: import {seconds:.1f} s")
        methods[name] = fit
    times: dict[str, list[float]] = {name: [] for name in methods}
    accuracy: dict[str, float] = {}
    for _ in range(1 + args.rounds):
        for name, fit in methods.items():
            started = time.perf_counter()
            plane = fit(means)
            times[name].append(time.perf_counter() - started)
            accuracy[name] = knn_accuracy(plane, labels)
    print(f"{means.shape[0]:,} points of {means.shape[1]} dimensions")
    for name in methods:
        first, rest = times[name][0], times[name][1:]
        median = f"{statistics.median(rest):.1f} s" if rest else "-"
        print(
            f"{name:9s} 5-NN {accuracy[name]:.2%}  first fit {first:.1f} s  "
            f"median of {len(rest)} more {median}"
        )


if __name__ == "__main__":
    main()
