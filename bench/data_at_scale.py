"""Benchmark training on an image folder far larger than memory should hold.

Command lines::

    python -m bench.data_at_scale generate --out /work/bench-data/shapes200k
    python -m bench.data_at_scale run --data /work/bench-data/shapes200k

``generate`` writes ``--count`` (200,000) PNG images of 64x64x3 drawn by
:mod:`vaeapp.data.shapes`, one subfolder per shape (the four classes), in
parallel worker processes; a file already there is kept, so an interrupted
generation continues.

``run`` trains the ``conv`` preset (Adam, batch ``--batch-size``) on the
folder through the project's loader (:func:`vaeapp.data.sources.load_dataset`,
streamed) and batches (:class:`vaeapp.train.batches.ShuffledChunks`), each
measurement in a fresh Python process:

1. ``cold``: an empty cache folder; seconds from the start of loading to the
   end of the first training step (listing, decoding the whole folder into
   the cache, building the model), then ``--batches`` batches: images per
   second over them and the process's peak resident memory (``ru_maxrss``);
2. ``warm``: the same with the cache there;
3. the ratio: ``--probe-batches`` batches of the same ``probe-batches x
   batch`` training images, read from the cache (``disk``) or first copied
   into one uint8 array in memory (``memory``, not timed), in alternating
   order over ``--rounds`` rounds (disk memory memory disk ...); the ratio
   of the medians of time per batch (the first ``--skip`` batches of each
   run, which hold tracing, left out);
4. ``--processes 2``: the real command on 2 data-parallel processes on
   localhost (JAX backend, each decoding and reading its own share), cold
   and with the cache: seconds to the end, peak memory of each process.

It prints one line per measurement and the machine's load average before and
after; docs/data-at-scale.md keeps the figures.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import socket
import statistics
import subprocess
import sys
import time
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np
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


def _peak_rss_mb() -> float:
    """This process's peak resident memory in MB (Linux: ru_maxrss in kB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


class _Timer:
    """Keras callback: wall time at the end of every training item."""

    def __init__(self) -> None:
        import keras

        class Callback(keras.callbacks.Callback):
            def on_train_batch_end(inner, batch: int, logs: Any = None) -> None:  # noqa: N805
                self.ends.append(time.perf_counter())

        self.ends: list[float] = []
        self.callback = Callback()


def _train(x: Any, rows: np.ndarray, shape: tuple[int, int, int], args: Any) -> Any:
    """Fit the conv preset for one pass over ``rows`` of ``x``; the timer."""
    import keras

    from vaeapp.core.config import ModelConfig, TrainConfig
    from vaeapp.model.vae import VAE
    from vaeapp.train.batches import ShuffledChunks
    from vaeapp.train.engine import build_optimizer, steps_per_chunk, use_xla

    config = TrainConfig(
        batch_size=args.batch_size, seed=1, steps_per_execution=args.steps
    )
    model_config = ModelConfig(architecture="conv", image_shape=shape)
    keras.utils.set_random_seed(1)
    chunked = keras.backend.backend() == "tensorflow"
    batches = ShuffledChunks(
        x,
        args.batch_size,
        steps_per_chunk(config, int(np.prod(shape))),
        1,
        rows=rows,
        chunked=chunked,
        drop_remainder=True,
    )
    model = VAE(model_config, seed=1)
    model.compile(
        optimizer=build_optimizer(config, batches.steps_per_epoch),
        jit_compile=use_xla(config, model_config),
        steps_per_execution=1 if chunked else steps_per_chunk(config),
    )
    model.kl_weight.assign(model_config.beta)
    timer = _Timer()
    model.fit(batches, epochs=1, shuffle=False, callbacks=[timer.callback], verbose=0)
    steps = batches.steps_per_epoch // len(batches)  # batches per item
    return timer, steps


def _child(args: argparse.Namespace) -> dict[str, Any]:
    """One measurement in this process (see the module docstring)."""
    from vaeapp.data.sources import load_dataset

    start = time.perf_counter()
    data = load_dataset("shapes_png", args.data, cache_dir=args.cache_dir)
    loaded = time.perf_counter()
    x = data.x_train
    count = args.batches * args.batch_size
    rows = np.sort(np.random.default_rng(0).permutation(x.shape[0])[:count])
    if args.mode == "memory":  # the same images, copied into memory first
        x, rows = x.uint8(rows).reshape(rows.size, -1), np.arange(rows.size)
    timer, steps = _train(x, rows, data.image_shape, args)
    ends = np.array(timer.ends)
    skip = min(args.skip, len(ends) - 2)
    per_batch = float(np.median(np.diff(ends[skip:]))) / steps
    images = (len(ends) - 1 - skip) * steps * args.batch_size
    return {
        "mode": args.mode,
        "train_images": int(x.shape[0]),
        "batches": len(ends) * steps,
        "load_s": loaded - start,
        "first_step_s": ends[0] - start,
        "s_per_batch": per_batch,
        "images_per_s": images / float(ends[-1] - ends[skip]),
        "peak_rss_mb": _peak_rss_mb(),
    }


def _run_child(args: argparse.Namespace, mode: str, batches: int) -> dict[str, Any]:
    command = [
        sys.executable,
        "-m",
        "bench.data_at_scale",
        "child",
        "--data",
        str(args.data),
        "--cache-dir",
        str(args.cache_dir),
        "--mode",
        mode,
        "--batches",
        str(batches),
        "--batch-size",
        str(args.batch_size),
        "--skip",
        str(args.skip),
        "--steps",
        str(args.steps),
    ]
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    if done.returncode:
        raise RuntimeError(f"{mode} run failed: {done.stderr[-3000:]}")
    result = json.loads(done.stdout.strip().splitlines()[-1])
    print(json.dumps(result), flush=True)
    return result


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("localhost", 0))
        return int(probe.getsockname()[1])


def _two_processes(args: argparse.Namespace, out: Path) -> dict[str, Any]:
    """The real command on 2 processes; seconds to the end and peak memory."""
    port = _free_port()
    train_size = 2 * args.batches_2p * args.batch_size
    common = [
        *(sys.executable, "-m", "vaeapp.train", "--data", str(args.data)),
        *("--preset", "conv", "--epochs", "1", "--quiet"),
        *("--batch-size", str(args.batch_size), "--train-size", str(train_size)),
        *("--validation-size", "0", "--coordinator", f"localhost:{port}"),
        *("--num-processes", "2", "--out", str(out)),
    ]
    env = dict(os.environ, VAEAPP_CACHE_DIR=str(args.cache_dir))
    start = time.perf_counter()
    group = [
        subprocess.Popen(
            [*common, "--process-id", str(i)],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for i in range(2)
    ]
    peaks = []
    for process in group:
        _, err = process.communicate()
        if process.returncode:
            raise RuntimeError(f"2-process run failed: {err[-3000:]}")
        peaks.append(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024)
    result = {
        "mode": "2 processes",
        "train_images": train_size,
        "seconds": time.perf_counter() - start,
        "peak_rss_mb_max": max(peaks),
    }
    print(json.dumps(result), flush=True)
    return result


def run(args: argparse.Namespace) -> None:
    """All measurements (see the module docstring)."""
    print(f"load average before: {os.getloadavg()}", flush=True)
    shutil.rmtree(args.cache_dir, ignore_errors=True)
    cold = _run_child(args, "cold", args.batches)
    _run_child(args, "warm", args.probe_batches)
    times: dict[str, list[float]] = {"disk": [], "memory": []}
    for round_ in range(args.rounds):
        order = ("disk", "memory") if round_ % 2 == 0 else ("memory", "disk")
        for mode in order:
            times[mode].append(
                _run_child(args, mode, args.probe_batches)["s_per_batch"]
            )
    ratio = statistics.median(times["disk"]) / statistics.median(times["memory"])
    print(
        f"cold: first step {cold['first_step_s']:.0f} s, "
        f"{cold['images_per_s']:.0f} images/s, peak {cold['peak_rss_mb']:.0f} MB; "
        f"time per batch disk / memory: {ratio:.3f} (medians of {args.rounds})",
        flush=True,
    )
    if args.processes == 2:
        out = args.cache_dir.parent / "bench-2p-models"
        shutil.rmtree(out, ignore_errors=True)
        shutil.rmtree(args.cache_dir, ignore_errors=True)
        _two_processes(args, out / "cold")
        _two_processes(args, out / "warm")
    print(f"load average after: {os.getloadavg()}", flush=True)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the benchmark command ``argv`` (see the module docstring)."""
    parser = argparse.ArgumentParser(prog="python -m bench.data_at_scale")
    commands = parser.add_subparsers(dest="command", required=True)
    make = commands.add_parser("generate", help="write the PNG folder")
    make.add_argument("--out", type=Path, required=True)
    make.add_argument("--count", type=int, default=GENERATE_COUNT)
    make.add_argument("--side", type=int, default=GENERATE_SIDE)
    make.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    for name in ("run", "child"):
        sub = commands.add_parser(name, help=f"{name} the training measurements")
        sub.add_argument("--data", type=Path, required=True)
        sub.add_argument("--cache-dir", type=Path, default=Path("/tmp/vaeapp-bench"))
        sub.add_argument("--batch-size", type=int, default=128)
        sub.add_argument("--batches", type=int, default=1000)
        sub.add_argument("--probe-batches", type=int, default=150)
        sub.add_argument("--batches-2p", type=int, default=200)
        sub.add_argument("--rounds", type=int, default=3)
        sub.add_argument("--skip", type=int, default=5)
        sub.add_argument("--steps", type=int, default=0, help="per compiled call")
        sub.add_argument("--processes", type=int, choices=(1, 2), default=2)
        sub.add_argument("--mode", default="cold")
    args = parser.parse_args(argv)
    if args.command == "generate":
        start = time.perf_counter()
        written = generate_folder(args.out, args.count, args.side, args.workers)
        print(f"wrote {written:,} files in {time.perf_counter() - start:.0f} s")
    elif args.command == "child":
        print(json.dumps(_child(args)), flush=True)
    else:
        run(args)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
