"""Training speed on this host's GPU against its CPU, in one go.

Command line::

    python -m bench.gpu_training [--mnist MNIST.npz] [--scale-data PATH]
        [--images 200000] [--epochs 3] [--cpu-images 2000] [--rounds 1]
        [--tiny] [--json OUT.json]

Two workloads, each run by the real training command (``python -m
vaeapp.train``) as a person would run it:

- ``mnist-wide``: the shipped mnist-wide model's settings (784-1024-512-256-2,
  AdamW, batch 100; ``vaeapp/pretrained/mnist-wide/config.json``) on MNIST
  (``--mnist``, else ``$VAEAPP_MNIST_DATA``, else Keras's download);
- ``scale``: the conv-deep preset on ``--images`` 64x64x3 images: the data
  ``--scale-data`` names (a folder of PNG files or an .npz), else the data
  set of ``bench.data_at_scale`` when that module is there, else the
  generated shapes at 64 px, written once as an .npz with 1,000 test images.

Each runs in two modes, alternating (GPU, CPU, CPU, GPU, ... over
``--rounds``): ``gpu`` is the command's own choice of backend on this host
(JAX on an NVIDIA GPU when ``jax[cuda12]`` is installed: docs/gpu.md), ``cpu``
the default CPU run (TensorFlow, every GPU hidden). The CPU runs train on
``--cpu-images`` images only (the GPU runs on all), since only their speed is
wanted. Per run it prints seconds per epoch (the median of the epochs after
the first, which compiles; the first if there is only one) and images per
second; then the ratio GPU / CPU images per second. Validation, the snapshot
grid and keep-best are off, so an epoch is training only.

``--tiny`` shrinks everything (300 MNIST-shaped noise images, 200 shapes, 2
epochs) to check the script end to end in a minute on a CPU.
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from vaeapp.core.gpu import gpu_backend
from vaeapp.data.shapes import generate
from vaeapp.jobs.progress import read_progress

ROOT = Path(__file__).resolve().parents[1]
MNIST_WIDE = ROOT / "vaeapp" / "pretrained" / "mnist-wide" / "config.json"
SCALE_SIDE, SCALE_TEST = 64, 1_000
QUIET = ("--validation-size", "0", "--grid-size", "0", "--quiet")


def _environment(mode: str) -> dict[str, str]:
    """The command's environment: ``gpu`` as the host chooses, ``cpu`` with
    every GPU hidden and TensorFlow, the default CPU backend."""
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2"}
    env.pop("KERAS_BACKEND", None)
    if mode == "cpu":
        env.update(
            CUDA_VISIBLE_DEVICES="-1", JAX_PLATFORMS="cpu", KERAS_BACKEND="tensorflow"
        )
    return env


def run(args: list[str], mode: str, out: Path) -> dict[str, float]:
    """One training run; its seconds per epoch and images per second."""
    progress = out / f"progress-{time.monotonic_ns()}.json"
    started = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-m", "vaeapp.train", *args, *QUIET, "--out", str(out)]
        + ["--progress-file", str(progress)],
        cwd=ROOT,
        env=_environment(mode),
        capture_output=True,
        text=True,
    )
    if done.returncode:
        raise SystemExit(f"training failed ({mode}):\n{done.stderr[-3000:]}")
    state = read_progress(progress)
    folder = Path(state.model_path)
    images = json.loads((folder / "config.json").read_text())["data"]["train_images"]
    seconds = [row["seconds"] for row in state.history]
    epoch = statistics.median(seconds[1:] or seconds)
    return {
        "seconds_per_epoch": epoch,
        "images_per_second": images / epoch,
        "train_images": images,
        "wall_seconds": time.perf_counter() - started,
    }


def scale_data(options: argparse.Namespace, folder: Path) -> Path:
    """The 64x64x3 data of the ``scale`` workload (see the module's text)."""
    if options.scale_data:
        return Path(options.scale_data)
    try:
        at_scale = importlib.import_module("bench.data_at_scale")
    except ImportError:
        at_scale = None
    if at_scale is not None and hasattr(at_scale, "write_folder"):
        return Path(at_scale.write_folder(folder / "scale", options.images))
    path = folder / "scale.npz"
    images, _ = generate(options.images + SCALE_TEST, seed=0, side=SCALE_SIDE)
    np.savez(
        path,
        x_train=images[: options.images],
        x_test=images[options.images :],
        y_train=np.zeros(options.images, np.uint8),
        y_test=np.zeros(SCALE_TEST, np.uint8),
    )
    return path


def tiny_mnist(folder: Path) -> Path:
    """300 training and 100 test images of MNIST's shape (noise)."""
    rng = np.random.default_rng(0)
    path = folder / "mnist.npz"
    np.savez(
        path,
        x_train=rng.integers(0, 256, (300, 28, 28), dtype=np.uint8),
        y_train=rng.integers(0, 10, 300).astype(np.uint8),
        x_test=rng.integers(0, 256, (100, 28, 28), dtype=np.uint8),
        y_test=rng.integers(0, 10, 100).astype(np.uint8),
    )
    return path


def workloads(options: argparse.Namespace, folder: Path) -> dict[str, list[str]]:
    """Each workload's command-line options, the data's included."""
    mnist = options.mnist or os.environ.get("VAEAPP_MNIST_DATA")
    if options.tiny:
        mnist = str(tiny_mnist(folder))
    document = json.loads(MNIST_WIDE.read_text())
    document["train"]["keep_best"] = False  # it needs a validation split
    config = folder / "mnist-wide.json"
    config.write_text(json.dumps(document))
    wide = ["--config", str(config), "--epochs", str(options.epochs)]
    wide += ["--data", mnist] if mnist else []
    scale = ["--data", str(scale_data(options, folder)), "--dataset", "scale"]
    scale += ["--preset", "conv-deep", "--epochs", str(options.epochs)]
    return {"mnist-wide": wide, "scale": scale}


def main(argv: list[str] | None = None) -> None:
    """Run every workload in both modes and print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mnist", default=None)
    parser.add_argument("--scale-data", default=None)
    parser.add_argument("--images", type=int, default=200_000)
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--cpu-images", type=int, default=2_000)
    parser.add_argument("--rounds", type=int, default=1)
    parser.add_argument("--tiny", action="store_true")
    parser.add_argument("--json", type=Path, default=None)
    options = parser.parse_args(argv)
    if options.tiny:
        options.images, options.epochs, options.cpu_images = 200, 2, 100
    backend = gpu_backend()
    print(
        f"GPU backend here: {backend or 'none (no NVIDIA GPU or no jax[cuda12])'}; "
        "the gpu rows then run on the CPU too"
    )
    results: dict[str, dict[str, list[dict[str, float]]]] = {}
    with tempfile.TemporaryDirectory() as temporary:
        folder = Path(temporary)
        for name, args in workloads(options, folder).items():
            rows = results.setdefault(name, {"gpu": [], "cpu": []})
            order = ["gpu", "cpu", "cpu", "gpu"] * options.rounds
            for mode in order[: 2 * options.rounds]:
                size = (
                    [] if mode == "gpu" else ["--train-size", str(options.cpu_images)]
                )
                figures = run([*args, *size], mode, folder)
                rows[mode].append(figures)
                print(
                    f"{name:10s} {mode}: {figures['seconds_per_epoch']:.2f} s/epoch, "
                    f"{figures['images_per_second']:,.0f} images/s "
                    f"({figures['train_images']:,} images)",
                    flush=True,
                )
            gpu = statistics.median(r["images_per_second"] for r in rows["gpu"])
            cpu = statistics.median(r["images_per_second"] for r in rows["cpu"])
            print(f"{name:10s} gpu/cpu images per second: {gpu / cpu:.1f}x")
    if options.json is not None:
        options.json.write_text(json.dumps({"backend": backend, **results}, indent=1))


if __name__ == "__main__":
    main()
