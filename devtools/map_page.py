"""The latent map alone in a blank Chromium page, with generated points, for
the map's browser tests and ``bench.map_speed``.

The page loads a renderer's bundle (Plotly's or regl-scatterplot's) and
decoder.js, map_common.js, the Plotly reference map (devtools/plotly_map.js,
the page's map before the WebGL one) and scatter_map.js as one plain script, from a
made-up origin that Playwright answers (no app server, no network). The
points are ``n`` generated ones: ten Gaussian clusters, labels 0-9, and
per-image figures; the decoder is a shipped model's (2-D latent), so the live
decode costs what it costs on the page.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from vaeapp.store.listing import best_pretrained
from vaeapp.store.reading import load_model
from vaeapp.web import files
from vaeapp.web.assets import pack_decoder_file

ORIGIN = "http://vaeapp-map.test"
# The Plotly map the page drew before, the reference of bench.map_speed, and
# the Plotly bundle it draws with (devtools/vendor/README.md).
PLOTLY_MAP_JS = Path(__file__).with_name("plotly_map.js")
PLOTLY_JS = Path(__file__).parent / "vendor" / "plotly-scattergl-3.7.0.min.js"
RANGE = (-4.0, 4.0)
_HOST = """<!doctype html><html><head><meta charset="utf-8">
<style>CSS</style></head><body style="margin:0">
<div id="host" style="width: 900px; padding: 8px"></div>
<script src="/lib.js"></script><script src="/map.js"></script></body></html>"""

# Loads the generated model into window.__model and draws it with the
# renderer named; window.__events lists what the map asked of the host.
# With images, the "real image" of point i is flat grey (i * 37 % 251) / 255.
LOAD_JS = """async ([meta, renderer, height, images]) => {
  const [points, decoder] = await Promise.all(
    ["/points.bin", "/decoder.bin"].map((u) => fetch(u).then((r) => r.arrayBuffer())));
  const started = performance.now();
  const model = emptyModel(meta);
  model.points = new Float32Array(points, ...meta.points);
  model.labels = new Uint8Array(points, ...meta.labels);
  model.figures = {};
  for (const [k, at] of Object.entries(meta.figures)) {
    model.figures[k] = new Float32Array(points, ...at);
  }
  model.layers = unpackDecoder(meta.layers, decoder);
  window.__model = model;
  window.__events = [];
  const data = {
    token: "t", z: [0, 0], u: [1, 0], v: [0, 1], marker: [0, 0], range: [-4, 4],
    height, axis_titles: ["z1", "z2"], grid_rect: null, path: [], samples: [],
    ellipses: [], colour_by: -1,
  };
  window.__data = data;
  const host = document.getElementById("host");
  const commit = (xy) => window.__events.push(["commit", xy]);
  if (renderer === "plotly") {
    drawMap(host, model, data, commit);
    await new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r)));
  } else {
    drawScatterMap(host, model, data, {
      commit,
      select: (s) => window.__events.push(["select", s]),
      search: (s) => window.__events.push(["search", s]),
      realImage: images ? (i) => Promise.resolve(
        new Float32Array(28 * 28).fill(((i * 37) % 251) / 255)) : null,
    });
    await new Promise((resolve) => {
      const root = host.querySelector(".vae-explorer");
      const wait = () => root.dataset.drawn ? resolve() : requestAnimationFrame(wait);
      wait();
    });
    await new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r)));
  }
  return performance.now() - started;
}"""


@dataclass(frozen=True)
class GeneratedMap:
    """``points`` ``(n, 2)`` float32 in RANGE, ``labels`` ``(n,)`` uint8,
    ``figures`` name -> ``(n,)`` float32, and the bytes the page fetches."""

    points: np.ndarray
    labels: np.ndarray
    figures: dict[str, np.ndarray]
    meta: dict[str, Any]
    points_blob: bytes
    decoder_blob: bytes


def generated_map(n: int, seed: int = 0) -> GeneratedMap:
    """``n`` points in ten clusters with seeded per-image figures, and the
    best shipped MNIST model's decoder."""
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, 10, n).astype(np.uint8)
    angles = labels * (2 * np.pi / 10)
    centres = 2.2 * np.stack([np.cos(angles), np.sin(angles)], axis=1)
    points = centres + rng.normal(0, 0.45, (n, 2))
    points = np.clip(points, *RANGE).astype(np.float32)
    recon = rng.gamma(4.0, 20.0, n).astype(np.float32)
    kl = rng.gamma(6.0, 1.5, n).astype(np.float32)
    figures = {"elbo": recon + kl, "recon": recon, "kl": kl}
    model = load_model(best_pretrained())
    layers, decoder_blob = pack_decoder_file(model.vae)
    parts: list[bytes] = []
    size = 0

    def add(array: np.ndarray) -> list[int]:
        nonlocal size
        data = np.ascontiguousarray(array).tobytes()
        pad = -size % 8
        parts.append(b"\0" * pad + data)
        offset = size + pad
        size = offset + len(data)
        return [offset, int(array.size)]

    meta = {
        "layers": layers,
        "image_shape": list(model.record.model.image_shape),
        "latent_dim": 2,
        "count": n,
        "names": [str(d) for d in range(10)],
        "points": add(points),
        "labels": add(labels),
        "figures": {k: add(v) for k, v in figures.items()},
    }
    return GeneratedMap(points, labels, figures, meta, b"".join(parts), decoder_blob)


def map_script() -> str:
    """decoder.js, map_common.js, plotly_map.js and scatter_map.js as one
    plain script."""
    paths = (files.DECODER_JS, files.MAP_COMMON_JS, PLOTLY_MAP_JS, files.SCATTER_MAP_JS)
    return "\n".join(files.read(path) for path in paths)


def open_map_page(
    browser: Any,
    generated: GeneratedMap,
    renderer: str,
    height: int = 640,
    images: bool = False,
) -> tuple[Any, float]:
    """A new page drawing ``generated`` with ``renderer`` ("plotly" or
    "regl"), with made-up real images when ``images`` (see LOAD_JS); returns
    it and the ms from the data's arrival to the drawn map."""
    lib = PLOTLY_JS if renderer == "plotly" else files.SCATTERPLOT_JS
    css = files.read(files.LATENT_MAP_CSS)
    answers = {
        "/": (_HOST.replace("CSS", css).encode(), "text/html"),
        "/lib.js": (lib.read_bytes(), "text/javascript"),
        "/map.js": (map_script().encode(), "text/javascript"),
        "/points.bin": (generated.points_blob, "application/octet-stream"),
        "/decoder.bin": (generated.decoder_blob, "application/octet-stream"),
    }
    page = browser.new_page(viewport={"width": 1200, "height": 900})

    def answer(route: Any) -> None:
        path = route.request.url[len(ORIGIN) :]
        body, kind = answers.get(path, (b"not found", "text/plain"))
        route.fulfill(
            status=200 if path in answers else 404, body=body, content_type=kind
        )

    page.route(f"{ORIGIN}/**", answer)
    page.goto(f"{ORIGIN}/")
    ms = page.evaluate(LOAD_JS, [generated.meta, renderer, height, images])
    return page, float(ms)
