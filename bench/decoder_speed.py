"""Time the decoders of conv models for several image shapes: the browser's
(``vaeapp/web/decoder.js`` in headless Chromium) and the server's (NumPy).

Command line: ``python bench/decoder_speed.py [--shapes 28x28x1,32x32x3,64x64x3]
[--grid 15] [--runs 15] [--decodes 60] [--no-browser] [--no-server] [--against REV]
[--browser-against REV [--models mnist-wide,mnist-tutorial,shapes-conv]]``.

Each model is the shipped conv preset's widths (filters 32, 64; hidden 256;
latent size 2) for the given image shape, with random He-scaled weights written
in the Keras weights-file layout and read back by the NumPy path, so no
training is needed. Prints, per shape:

- browser: the median and best milliseconds of one ``decode`` call in
  Chromium over ``--decodes`` calls at moving latent points (after a warm-up),
  as decodes per second, plus the milliseconds of ``toImageData``;
- server: the median and best milliseconds over ``--runs`` calls of
  ``NumpyVAE.decode`` on a ``--grid`` x ``--grid`` manifold grid;
- with ``--against REV``, instead: the server's grid decoded by the current
  ``vaeapp/inference/numpy_vae.py`` and by the one at git revision ``REV``, from the
  same weights file, in ``--runs`` alternating rounds of 5 decodes each, with
  the medians and their ratio (new / old);
- with ``--browser-against REV``, instead: the browser's ``--grid`` x
  ``--grid`` grid of each shipped model of ``--models`` (its z's as
  ``manifold.grid_points`` makes them), decoded and drawn into one
  ``ImageData`` by the current ``decoder.js`` and by the one at revision
  ``REV`` (each in a page of its own in one Chromium; ``decodeBatch`` and
  ``putPixels`` where the file has them, else a ``decode`` and a
  ``toImageData`` per cell), in ``--runs`` rounds alternating which goes
  first, 3 grids each after 3 unmeasured ones; medians and their ratio.

Timings on a shared machine vary with its load: run it a few times.
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import vaeapp.core.config as config_module  # noqa: E402
import vaeapp.model.layout as layout_module  # noqa: E402
from devtools.browser import chromium  # noqa: E402
from devtools.weights import write_random_weights  # noqa: E402
from vaeapp.core.config import ModelConfig  # noqa: E402
from vaeapp.explore.manifold import grid_points  # noqa: E402
from vaeapp.inference.numpy_vae import NumpyVAE, load_numpy_vae  # noqa: E402
from vaeapp.web import files  # noqa: E402
from vaeapp.web.assets import pack_decoder  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
DECODER_JS = files.DECODER_JS

_JS_TIME = """([layers, shape, z, count]) => {
  const model = { layers: unpackDecoder(layers) };
  for (let i = 0; i < 10; i++) decode(model, z);  // let the JIT compile
  const times = [], drawTimes = [];
  let image = null;
  for (let i = 0; i < count; i++) {
    const zi = z.map((v, d) => v + 0.02 * ((i + d) % 11));
    const start = performance.now();
    const pixels = decode(model, zi);
    const middle = performance.now();
    image = toImageData(pixels, shape, image);
    drawTimes.push(performance.now() - middle);
    times.push(middle - start);
  }
  times.sort((a, b) => a - b);
  drawTimes.sort((a, b) => a - b);
  return [times[Math.floor(count / 2)], times[0], drawTimes[Math.floor(count / 2)]];
}"""


# One page's grid decode and draw: warm-up, then ``count`` timed grids (ms).
_JS_GRID_SETUP = """(layers) => {
  window.__model = { layers: unpackDecoder(layers) };
}"""
_JS_GRID_TIME = """([zs, shape, count]) => {
  const model = window.__model, [h, w] = shape, n = Math.round(Math.sqrt(zs.length));
  const times = [];
  for (let k = 0; k < count; k++) {
    const start = performance.now();
    const image = new ImageData(n * w, n * h);
    if (typeof decodeBatch === "function") {
      const values = decodeBatch(model, zs), size = values.length / zs.length;
      for (let c = 0; c < zs.length; c++) {
        putPixels(values, c * size, shape, image, (c % n) * w, Math.floor(c / n) * h);
      }
    } else {
      let cell = null;
      zs.forEach((z, c) => {
        cell = toImageData(decode(model, z), shape, cell);
        const x0 = (c % n) * w, y0 = Math.floor(c / n) * h;
        for (let y = 0; y < h; y++) {
          image.data.set(cell.data.subarray(y * w * 4, (y + 1) * w * 4),
                         ((y0 + y) * n * w + x0) * 4);
        }
      });
    }
    times.push(performance.now() - start);
  }
  return times;
}"""
SHIPPED = "mnist-wide,mnist-tutorial,shapes-conv"


def browser_grid_ab(rev: str, names: list[str], n: int, rounds: int) -> None:
    """Print the grid decode-and-draw times of ``decoder.js`` now and at
    ``rev``, in alternating rounds, per shipped model."""
    from vaeapp.store.listing import model_named
    from vaeapp.store.reading import load_model

    shown = subprocess.run(
        ["git", "show", f"{rev}:vaeapp/web/decoder.js"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    sources = {"old": shown.stdout, "new": DECODER_JS.read_text(encoding="utf-8")}
    with chromium() as browser:
        for name in names:
            folder = model_named(name)
            if folder is None:
                raise SystemExit(f"error: no shipped model {name!r}")
            model = load_model(folder)
            zs = grid_points(n, 0.05).tolist()
            pages = {}
            for version, source in sources.items():
                page = browser.new_page()
                page.set_content("<!doctype html><title>grid speed</title>")
                page.add_script_tag(content=source)
                page.evaluate(_JS_GRID_SETUP, pack_decoder(model.vae))
                shape = list(model.image_shape)
                page.evaluate(_JS_GRID_TIME, [zs, shape, 3])  # let the JIT compile
                pages[version] = page
            times: dict[str, list[float]] = {"old": [], "new": []}
            for r in range(rounds):
                for version in ("old", "new") if r % 2 == 0 else ("new", "old"):
                    times[version] += pages[version].evaluate(
                        _JS_GRID_TIME, [zs, shape, 3]
                    )
            medians = {v: statistics.median(t) for v, t in times.items()}
            print(
                f"browser grid {n}x{n} {name}: "
                + ", ".join(
                    f"{v} median {medians[v]:.1f} ms, best {min(t):.1f} ms"
                    for v, t in times.items()
                )
                + f"; new / old {medians['new'] / medians['old']:.3f} "
                f"({rounds} rounds of 3), load {os.getloadavg()[0]:.1f}",
                flush=True,
            )
            for page in pages.values():
                page.close()
        browser.close()


def parse_shape(text: str) -> tuple[int, int, int]:
    """``"32x32x3"`` -> ``(32, 32, 3)``."""
    height, width, channels = (int(part) for part in text.lower().split("x"))
    return height, width, channels


def random_model(folder: Path, config: ModelConfig, seed: int = 0) -> NumpyVAE:
    """A model of ``config`` with random He-scaled weights (variance 2 / fan-in,
    a quarter of the taps for stride-2 transposed convolutions) and small
    biases, through the weights-file reader."""
    return load_numpy_vae(random_weights(folder, config, seed), config)


def random_weights(folder: Path, config: ModelConfig, seed: int = 0) -> Path:
    """:func:`random_model`'s weights, written to a Keras-layout file in
    ``folder``; returns its path."""
    path = folder / f"random-{seed}.weights.h5"
    return write_random_weights(path, config, np.random.default_rng(seed))


def time_server(vae: NumpyVAE, n: int, runs: int) -> tuple[float, float]:
    """Median and best milliseconds of decoding an n x n manifold grid."""
    points = grid_points(n, 0.05)
    vae.decode(points)  # warm-up
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        vae.decode(points)
        times.append(1000 * (time.perf_counter() - start))
    return statistics.median(times), min(times)


# Where the NumPy decoder lived at a revision: now, and before the packages
# (whose modules the old file imports by their old names).
DECODER_PATHS = ("vaeapp/inference/numpy_vae.py", "vaeapp/inference.py")
OLD_NAMES = {"vaeapp.config": config_module, "vaeapp.model_layout": layout_module}


def old_decoder_module(rev: str) -> ModuleType:
    """The NumPy decoder's module as it was at git revision ``rev``, imported
    as its own module (it imports the current ``vaeapp.core.config`` and
    ``vaeapp.model.layout``, under their old names if it is that old)."""
    for name in DECODER_PATHS:
        shown = subprocess.run(
            ["git", "show", f"{rev}:{name}"], cwd=ROOT, capture_output=True, text=True
        )
        if shown.returncode == 0:
            break
    else:
        raise SystemExit(f"error: no NumPy decoder at revision {rev}")
    source = shown.stdout
    for old, module in OLD_NAMES.items():
        sys.modules.setdefault(old, module)
    with tempfile.TemporaryDirectory(prefix="vaeapp-old-") as folder:
        path = Path(folder) / "old_inference.py"
        path.write_text(source, encoding="utf-8")
        spec = importlib.util.spec_from_file_location("old_inference", path)
        module = importlib.util.module_from_spec(spec)
        sys.modules[spec.name] = module  # dataclasses look their module up
        spec.loader.exec_module(module)
    return module


def time_server_ab(
    new: NumpyVAE, old: Any, n: int, rounds: int
) -> dict[str, list[float]]:
    """Milliseconds of decoding an n x n grid with the old and the new code,
    in alternating rounds of 5 decodes, each round after one unmeasured decode."""
    points = grid_points(n, 0.05)
    times: dict[str, list[float]] = {"old": [], "new": []}
    for _ in range(rounds):
        for name, vae in (("old", old), ("new", new)):
            vae.decode(points)
            for _ in range(5):
                start = time.perf_counter()
                vae.decode(points)
                times[name].append(1000 * (time.perf_counter() - start))
    return times


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shapes", default="28x28x1,32x32x3,64x64x3")
    parser.add_argument("--grid", type=int, default=15)
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--decodes", type=int, default=60)
    parser.add_argument("--no-browser", action="store_true")
    parser.add_argument("--no-server", action="store_true")
    parser.add_argument("--against", metavar="REV")
    parser.add_argument("--browser-against", metavar="REV")
    parser.add_argument("--models", default=SHIPPED)
    args = parser.parse_args(argv)
    if args.browser_against:
        print(f"load average before: {os.getloadavg()[0]:.2f}, {os.cpu_count()} cores")
        browser_grid_ab(
            args.browser_against, args.models.split(","), args.grid, args.runs
        )
        return
    shapes = [parse_shape(text) for text in args.shapes.split(",")]
    old = old_decoder_module(args.against) if args.against else None
    models, old_models = {}, {}
    with tempfile.TemporaryDirectory() as tmp:
        for shape in shapes:
            config = ModelConfig.preset("conv", image_shape=shape)
            path = random_weights(Path(tmp), config)
            models[shape] = load_numpy_vae(path, config)
            if old is not None:
                old_models[shape] = old.load_numpy_vae(path, config)
    print(f"load average before: {os.getloadavg()[0]:.2f} on {os.cpu_count()} cores")
    if old is not None:
        for shape, vae in models.items():
            times = time_server_ab(vae, old_models[shape], args.grid, args.runs)
            medians = {name: statistics.median(t) for name, t in times.items()}
            print(
                f"server {'x'.join(map(str, shape))}: {args.grid}x{args.grid} grid, "
                + ", ".join(
                    f"{name} median {medians[name]:.1f} ms, best {min(t):.1f} ms"
                    for name, t in times.items()
                )
                + f"; new / old {medians['new'] / medians['old']:.2f} "
                f"({args.runs} rounds of 5)"
            )
        print(f"load average after: {os.getloadavg()[0]:.2f}")
        return
    if not args.no_server:
        for shape, vae in models.items():
            median, best = time_server(vae, args.grid, args.runs)
            print(
                f"server {'x'.join(map(str, shape))}: {args.grid}x{args.grid} grid "
                f"median {median:.1f} ms, best {best:.1f} ms ({args.runs} runs)"
            )
    if args.no_browser:
        return
    with chromium() as browser:
        page = browser.new_page()
        page.set_content("<!doctype html><title>decoder speed</title>")
        page.add_script_tag(content=DECODER_JS.read_text(encoding="utf-8"))
        for shape, vae in models.items():
            z = [0.5, -0.3]
            median, best, draw = page.evaluate(
                _JS_TIME, [pack_decoder(vae), list(shape), z, args.decodes]
            )
            print(
                f"browser {'x'.join(map(str, shape))}: decode median {median:.2f} ms "
                f"({1000 / median:.0f}/s), best {best:.2f} ms; toImageData "
                f"{draw:.3f} ms ({args.decodes} decodes)"
            )
        browser.close()


if __name__ == "__main__":
    main()
