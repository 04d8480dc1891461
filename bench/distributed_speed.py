"""Seconds per epoch of data-parallel training: 1 and 2 processes, TF and JAX.

Command line::

    python bench/distributed_speed.py [--data MNIST.npz] [--mnist-size N]
        [--conv-size N] [--epochs E] [--reps R]

Runs the real training command (``python -m vaeapp.train``) for two models:
the tutorial preset on MNIST-shaped images (``--data``, else synthetic noise of
that shape; the speed does not depend on the pixels) and the conv preset on
32x32 colour shapes drawn by :func:`vaeapp.data.shapes.generate` (the images of
``--dataset shapes``), written as an .npz with a 1,000-image test set so that
the final evaluation, which every run pays once, stays short. Each is run as:

- TensorFlow, 1 process, batch 100 (the default run);
- JAX, 1 process, batch 100 and batch 50;
- JAX, 2 processes of batch 50 each (global batch 100), data-parallel.

Every process is pinned to its own core (``taskset -c 0`` / ``-c 1``), so a
2-process run has twice the cores of a 1-process one. TensorFlow's
multi-worker strategy does not work with Keras 3 (keras-team/keras issue
20585), so there is no 2-process TensorFlow row. The seconds are those of the
last epoch the command prints (the first one includes compiling).

The communication overhead per step is measured two ways: the 2-process step
time minus the 1-process step time at the same per-process batch (50): the same
compute per process, so the difference is the gradient all-reduce and the
waiting for the slower process; and a micro-benchmark: the time of one gloo
all-reduce of a float32 vector as long as the model's parameter count between
two processes (``--allreduce-worker``, started by this script).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from vaeapp.core.config import ModelConfig  # noqa: E402
from vaeapp.data.shapes import generate  # noqa: E402
from vaeapp.model.layout import parameter_count  # noqa: E402
from vaeapp.train.distributed import free_local_port, process_options  # noqa: E402

EPOCH_LINE = re.compile(r"^epoch (\d+)/(\d+) .*\|\s+([0-9.]+) s$")


def _pinned(core: int, args: list[str]) -> list[str]:
    """``args`` run on one core when taskset exists (else unpinned)."""
    return ["taskset", "-c", str(core), *args] if shutil.which("taskset") else args


def _env() -> dict[str, str]:
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2"}
    for name in ("KERAS_BACKEND", "VAEAPP_HOME", "XLA_FLAGS"):
        env.pop(name, None)
    return env


def _epoch_seconds(stdout: str) -> float:
    """The last epoch's seconds as the command prints them."""
    lines = map(EPOCH_LINE.match, stdout.splitlines())
    seconds = [float(m.group(3)) for m in lines if m]
    if not seconds:
        raise RuntimeError(f"no epoch line in the output:\n{stdout[-2000:]}")
    return seconds[-1]


def train_run(
    common: list[str], backend: str, batch: int, processes: int, out: Path
) -> float:
    """Seconds of the last epoch of one run (process 0's figure)."""
    name = f"{backend}-{processes}p-b{batch}-{time.monotonic_ns()}"
    args = [*common, "--backend", backend, "--batch-size", str(batch)]
    args += ["--out", str(out), "--name", name]
    base = [sys.executable, "-m", "vaeapp.train", *args]
    if processes == 1:
        result = subprocess.run(
            _pinned(0, base), cwd=ROOT, env=_env(), capture_output=True, text=True
        )
        if result.returncode:
            raise RuntimeError(result.stderr[-2000:])
        return _epoch_seconds(result.stdout)
    coordinator = f"localhost:{free_local_port()}"
    group = [
        subprocess.Popen(
            _pinned(rank, [*base, *process_options(coordinator, processes, rank)]),
            cwd=ROOT,
            env=_env(),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for rank in range(processes)
    ]
    outputs = [process.communicate() for process in group]
    for process, (_, err) in zip(group, outputs, strict=True):
        if process.returncode:
            raise RuntimeError(err[-2000:])
    return _epoch_seconds(outputs[0][0])


def allreduce_worker(port: int, rank: int, length: int, reps: int) -> None:
    """One of two processes timing a gloo all-reduce (sum) of ``length``
    float32 values: the gradient all-reduce of a model with that many
    parameters. Prints one JSON line on process 0."""
    os.environ["KERAS_BACKEND"] = "jax"
    import jax
    from jax.sharding import Mesh, NamedSharding
    from jax.sharding import PartitionSpec as Spec

    jax.config.update("jax_cpu_collectives_implementation", "gloo")
    jax.distributed.initialize(f"localhost:{port}", num_processes=2, process_id=rank)
    mesh = Mesh(np.array(jax.devices()), ("batch",))
    # (2, length): one row per process; summing the rows into a replicated
    # result is an all-reduce across the two processes.
    x = jax.make_array_from_process_local_data(
        NamedSharding(mesh, Spec("batch")), np.ones((1, length), np.float32)
    )
    reduce = jax.jit(lambda a: a.sum(axis=0), out_shardings=NamedSharding(mesh, Spec()))
    reduce(x).block_until_ready()  # compile and connect
    times = []
    for _ in range(reps):
        start = time.perf_counter()
        reduce(x).block_until_ready()
        times.append(time.perf_counter() - start)
    if rank == 0:
        print(json.dumps({"length": length, "median_s": float(np.median(times))}))
    jax.distributed.shutdown()


def allreduce_seconds(length: int, reps: int) -> float:
    """Median seconds of one all-reduce of ``length`` float32 values between
    two processes on two cores."""
    port = free_local_port()
    group = [
        subprocess.Popen(
            _pinned(
                rank,
                [
                    sys.executable,
                    __file__,
                    "--allreduce-worker",
                    f"{port},{rank},{length},{reps}",
                ],
            ),
            cwd=ROOT,
            env=_env(),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for rank in range(2)
    ]
    outputs = [process.communicate() for process in group]
    for process, (_, err) in zip(group, outputs, strict=True):
        if process.returncode:
            raise RuntimeError(err[-2000:])
    return json.loads(outputs[0][0].strip().splitlines()[-1])["median_s"]


def _mnist_like(folder: Path, count: int) -> Path:
    """Synthetic 28x28 grey images (noise) in MNIST's .npz layout."""
    rng = np.random.default_rng(0)
    path = folder / "mnist_like.npz"
    np.savez(
        path,
        x_train=rng.integers(0, 256, (count, 28, 28), dtype=np.uint8),
        x_test=rng.integers(0, 256, (1000, 28, 28), dtype=np.uint8),
    )
    return path


def _shapes(folder: Path, count: int) -> Path:
    """``count`` generated 32x32 colour shapes and 1,000 test ones, as .npz."""
    path = folder / "shapes_small.npz"
    train, _ = generate(count, seed=0, side=32)
    test, _ = generate(1000, seed=1, side=32)
    np.savez(path, x_train=train, x_test=test)
    return path


def main(argv: list[str] | None = None) -> None:
    """Run every configuration and print a Markdown table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default=None, help="MNIST .npz (else synthetic)")
    parser.add_argument("--mnist-size", type=int, default=10_000)
    parser.add_argument("--conv-size", type=int, default=1_000)
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--reps", type=int, default=50)
    parser.add_argument(
        "--models", default="tutorial,conv", help="which rows: tutorial, conv"
    )
    parser.add_argument("--allreduce-worker", default=None, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.allreduce_worker:
        port, rank, length, reps = (int(v) for v in args.allreduce_worker.split(","))
        allreduce_worker(port, rank, length, reps)
        return
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "runs"
        data = args.data or str(_mnist_like(Path(tmp), args.mnist_size + 1000))
        # No validation split or grid: the epoch is the training steps alone.
        shared = ["--epochs", str(args.epochs), "--grid-size", "0"]
        shared += ["--validation-size", "0", "--quiet"]
        rows = {
            "tutorial": (
                "tutorial (784-256-2)",
                ModelConfig.preset("tutorial"),
                ["--data", data, "--dataset", "mnist", "--preset", "tutorial"],
                args.mnist_size,
            ),
            "conv": (
                "conv 32x32x3 (shapes)",
                ModelConfig.preset("conv", image_shape=(32, 32, 3)),
                ["--data", str(_shapes(Path(tmp), args.conv_size))]
                + ["--dataset", "shapes32", "--preset", "conv"],
                args.conv_size,
            ),
        }
        print(
            "| model | images | parameters | TF 1 proc b100 | JAX 1 proc b100 | "
            "JAX 1 proc b50 | JAX 2 procs 2x50 | overhead/step | all-reduce |"
        )
        print("| --- | --- | --- | --- | --- | --- | --- | --- | --- |")
        for key in args.models.split(","):
            label, config, options, images = rows[key]
            # --quiet prints only the final line; the epoch lines are needed.
            common = [*options, "--train-size", str(images), *shared]
            common.remove("--quiet")
            tf1 = train_run(common, "tensorflow", 100, 1, out)
            jax1 = train_run(common, "jax", 100, 1, out)
            jax_half = train_run(common, "jax", 50, 1, out)
            jax2 = train_run(common, "jax", 50, 2, out)
            params = parameter_count(config)
            steps = images // 100
            overhead = (jax2 - jax_half / 2) / steps  # same 50 images per step
            reduce = allreduce_seconds(params, args.reps)
            print(
                f"| {label} | {images:,} | {params:,} | {tf1:.2f} s | {jax1:.2f} s | "
                f"{jax_half:.2f} s | {jax2:.2f} s | {overhead * 1e3:.1f} ms | "
                f"{reduce * 1e3:.1f} ms |",
                flush=True,
            )


if __name__ == "__main__":
    main()
