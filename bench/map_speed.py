"""The latent map's speed in headless Chromium: the WebGL map (scatter_map.js,
regl-scatterplot) against the Plotly map it replaced (devtools/plotly_map.js,
kept as this reference), on the same generated points.

Command line: ``python -m bench.map_speed [--sizes 10000,100000] [--big
1000000] [--rounds 3]``.

For each size in ``--sizes``, rounds alternate the two renderers (a fresh
page each), and print medians of:

- first draw: ms from the page having the points and weights to the drawn
  map (devtools/map_page.py's LOAD_JS);
- pan frame: ms per frame of 30 view moves, each awaited until drawn and
  painted (Plotly: ``Plotly.relayout`` of both axis ranges, as a pan of a
  Plotly map does; WebGL: the camera's target moved);
- hover decodes/s: pointer moves dispatched every animation frame for 2 s
  over the map, each decoded under the pointer (the live preview).

For ``--big`` points, the WebGL map alone (Plotly needs minutes) adds a lasso
of about 100,000 points: ms from the polygon to its ids in the browser, and
on the server the ids from the polygon (``explore.map_selection.select``)
and the first page of the selection's image grid.
"""

from __future__ import annotations

import argparse
import statistics
import time
from typing import Any

import numpy as np

from devtools.browser import chromium
from devtools.map_page import generated_map, open_map_page
from vaeapp.explore.selection import points_in_polygon
from vaeapp.ui.views.selection import page_of_images

PAN_STEPS = 30
HOVER_S = 2.0
# The lasso: a box around cluster 0 (centre (2.2, 0)): 99,332 of the
# 1,000,000 points of generated_map(1_000_000).
LASSO = [[1.4, -0.7], [3.4, -0.7], [3.4, 0.7], [1.4, 0.7]]

_PAN_JS = """async ([renderer, steps]) => {
  const root = document.querySelector('.vae-explorer');
  const frame = () => new Promise((r) => requestAnimationFrame(() => r()));
  const started = performance.now();
  for (let k = 1; k <= steps; k++) {
    const shift = 0.05 * k;
    if (renderer === 'plotly') {
      const div = root.querySelector('.vae-map');
      await Plotly.relayout(div, { 'xaxis.range': [-4 + shift, 4 + shift],
                                   'yaxis.range': [-4 + shift, 4 + shift] });
    } else {
      const plot = root.__gl.plot;
      const drawn = new Promise((r) => plot.subscribe('draw', r, 1));
      plot.set({ cameraTarget: [shift / 4, shift / 4] });
      await drawn;
    }
    await frame();
  }
  return (performance.now() - started) / steps;
}"""

_HOVER_JS = """async ([seconds]) => {
  const root = document.querySelector('.vae-explorer');
  const target = root.querySelector('.vae-gl-area') || root.querySelector('.vae-map');
  const box = target.getBoundingClientRect();
  const before = Number(root.dataset.decodes || 0);
  const started = performance.now();
  let k = 0;
  while (performance.now() - started < seconds * 1000) {
    const t = (k++ % 100) / 100;
    target.dispatchEvent(new PointerEvent('pointermove', { bubbles: true,
      clientX: box.left + box.width * (0.2 + 0.6 * t),
      clientY: box.top + box.height * (0.3 + 0.4 * t) }));
    await new Promise((r) => requestAnimationFrame(() => r()));
  }
  await new Promise((r) => requestAnimationFrame(() => r()));
  const elapsed = (performance.now() - started) / 1000;
  return (Number(root.dataset.decodes || 0) - before) / elapsed;
}"""

_LASSO_JS = """async ([polygon]) => {
  const root = document.querySelector('.vae-explorer'), gl = root.__gl;
  const [lo, hi] = gl.range, c = (lo + hi) / 2, h = (hi - lo) / 2;
  const vertices = polygon.map(([x, y]) => [(x - c) / h, (y - c) / h]);
  const before = window.__events.length;
  const started = performance.now();
  gl.plot.lassoSelect(vertices, { isGl: true });
  while (!window.__events.slice(before).some((e) => e[0] === 'select')) {
    await new Promise((r) => setTimeout(r, 1));
  }
  return [performance.now() - started, gl.selected.length];
}"""


def _round(browser: Any, generated: Any, renderer: str) -> dict[str, float]:
    page, draw_ms = open_map_page(browser, generated, renderer)
    try:
        page.wait_for_function(
            "() => document.querySelector('.vae-explorer').dataset.decoder === 'ready'"
        )
        pan = page.evaluate(_PAN_JS, [renderer, PAN_STEPS])
        hover = page.evaluate(_HOVER_JS, [HOVER_S])
        out = {"draw_ms": draw_ms, "pan_ms": pan, "hover_per_s": hover}
        if renderer == "regl" and generated.points.shape[0] >= 1_000_000:
            lasso_ms, count = page.evaluate(_LASSO_JS, [LASSO])
            out.update(lasso_ms=lasso_ms, lasso_points=count)
        return out
    finally:
        page.close()


def _server_lasso(generated: Any, rounds: int) -> tuple[float, float, int]:
    """Median ms of the server's ids from LASSO, and of the grid's first page,
    over ``rounds`` (images: made-up 28 x 28 bytes, one per point)."""
    images = np.zeros((generated.points.shape[0], 784), np.uint8)

    class _Model:  # what page_of_images reads of a LoadedModel
        test_images = images
        image_shape = (28, 28, 1)

    ids_ms, grid_ms = [], []
    for _ in range(rounds):
        start = time.perf_counter()
        ids = np.flatnonzero(points_in_polygon(generated.points, np.asarray(LASSO)))
        ids_ms.append(1000 * (time.perf_counter() - start))
        start = time.perf_counter()
        page_of_images(_Model(), ids, 0)  # type: ignore[arg-type]
        grid_ms.append(1000 * (time.perf_counter() - start))
    return statistics.median(ids_ms), statistics.median(grid_ms), int(ids.size)


def _print(n: int, renderer: str, rounds: list[dict[str, float]]) -> None:
    keys = rounds[0].keys()
    medians = {k: statistics.median(r[k] for r in rounds) for k in keys}
    text = ", ".join(f"{k} {v:,.1f}" for k, v in medians.items())
    print(f"{n:>9,} points  {renderer:6}  {text}  ({len(rounds)} rounds, medians)")


def main(argv: list[str] | None = None) -> None:
    """Parse the options, run the rounds and print one line per renderer and size."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="10000,100000")
    parser.add_argument("--big", type=int, default=1_000_000, help="0: skip")
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args(argv)
    sizes = [int(s) for s in args.sizes.split(",") if s]
    with chromium() as browser:
        for n in sizes:
            generated = generated_map(n)
            results: dict[str, list] = {"plotly": [], "regl": []}
            for k in range(args.rounds):
                order = ("plotly", "regl") if k % 2 == 0 else ("regl", "plotly")
                for renderer in order:
                    results[renderer].append(_round(browser, generated, renderer))
            for renderer, rounds in results.items():
                _print(n, renderer, rounds)
        if args.big:
            generated = generated_map(args.big)
            rounds = [_round(browser, generated, "regl") for _ in range(args.rounds)]
            _print(args.big, "regl", rounds)
            ids_ms, grid_ms, count = _server_lasso(generated, args.rounds)
            print(
                f"{args.big:>9,} points  server  lasso ids {ids_ms:,.1f} ms for "
                f"{count:,} points, first grid page {grid_ms:,.1f} ms (medians)"
            )


if __name__ == "__main__":
    main()
