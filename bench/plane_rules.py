"""The rules between a stored UMAP plane and z: how well and how fast.

Command line: ``python -m bench.plane_rules [--model mnist-20d] [--sample 500]
[--calls 200] [--no-browser] [--transform]``.

For the stored UMAP plane of ``--model`` prints:

- the z -> map rule (``StoredPlane.coords``: inverse-distance-weighted
  position of the PLACE_NEIGHBOURS latents nearest z) against the stored
  points: each of ``--sample`` test images (seeded) is placed from the other
  images alone, and the distance to its own stored point is given as a share
  of the plane's width (median, 90th percentile), for 1, 3, 5 and 10
  neighbours weighted, and for the plain mean of 5 (the rule before);
- the milliseconds of one call of each rule in NumPy, and with a browser
  (plane_rules.js in headless Chromium, every stored point an anchor) one
  call of ``planeToZ`` (hover) and ``zToPlane`` (a slider move), over
  ``--calls`` calls at moving points (mean of a timed loop);
- with ``--transform``: umap-learn's own ``transform`` of one new z, the
  alternative for z -> map, after fitting UMAP on the same means with the
  folder's settings (the fit's seconds too); it needs the fitted model on
  the server (a pickle, which the folder never stores) and a round trip.

Timings on a shared machine vary with its load: run it a few times.
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np

from vaeapp.explore.projection import (
    NEIGHBOURS,
    PLACE_NEIGHBOURS,
    StoredPlane,
    plane_click_to_z,
    stored_plane,
    weighted_mean,
)


def _placed(plane: StoredPlane, rows: np.ndarray) -> dict[str, np.ndarray]:
    """Each sampled image's position from the others: ``{rule: (s, 2)}``."""
    means = plane.means.astype(np.float64)
    out: dict[str, list] = {f"weighted {k}": [] for k in (1, 3, 5, 10)}
    out["plain mean 5"] = []
    for i in rows:
        squared = np.square(means - means[i]).sum(1)
        squared[i] = np.inf
        near = np.argsort(squared, kind="stable")[:10]
        points = plane.points[near].astype(np.float64)
        for k in (1, 3, 5, 10):
            out[f"weighted {k}"].append(weighted_mean(points[:k], squared[near[:k]]))
        out["plain mean 5"].append(points[:5].mean(0))
    return {k: np.asarray(v) for k, v in out.items()}


def _fidelity(plane: StoredPlane, sample: int) -> None:
    rows = np.random.default_rng(0).choice(len(plane.points), sample, replace=False)
    x0, x1, y0, y1 = plane.extent()
    width = max(x1 - x0, y1 - y0)
    print(f"z -> map from the other images, {sample} images, share of the width")
    print(f"(the page uses weighted {PLACE_NEIGHBOURS}):")
    for name, placed in _placed(plane, rows).items():
        error = np.hypot(*(placed - plane.points[rows]).T) / width
        print(
            f"  {name:<13} median {np.median(error):.4f}"
            f"  90th percentile {np.percentile(error, 90):.4f}"
        )


def _numpy_speed(plane: StoredPlane, calls: int) -> None:
    rng = np.random.default_rng(1)
    x0, x1, y0, y1 = plane.extent()
    spots = rng.uniform([x0, y0], [x1, y1], (calls, 2))
    zs = rng.normal(0.0, 1.0, (calls, plane.means.shape[1]))
    for name, run in (
        ("map -> z (plane_click_to_z)", lambda k: plane_click_to_z(plane, spots[k])),
        ("z -> map (StoredPlane.coords)", lambda k: plane.coords(zs[k])),
    ):
        times = []
        for k in range(calls):
            started = time.perf_counter()
            run(k)
            times.append(time.perf_counter() - started)
        print(f"  NumPy {name}: {1e3 * statistics.median(times):.3f} ms per call")


# Mean milliseconds per call over ``calls`` calls of each rule at moving
# points (a loop timed whole: Chromium's timer has 0.1 ms steps).
_JS_TIME = """([points, means, dim, calls, radius, k, place]) => {
  const model = { latentDim: dim, points: Float32Array.from(points),
                  anchorMeans: Float32Array.from(means), anchorRows: null };
  const anchors = planeAnchors(model);
  const m = points.length / 2, spots = [], zs = [];
  for (let c = 0; c < calls; c++) {
    spots.push([points[2 * (c % m)] + 0.1, points[2 * (c % m) + 1] - 0.1]);
    const row = means.slice((c % m) * dim, (c % m + 1) * dim);
    zs.push(Array.from(row, (v) => v + 0.05));
  }
  let t = performance.now();
  for (const xy of spots) planeToZ(anchors, xy, radius, k);
  const hover = (performance.now() - t) / calls;
  t = performance.now();
  for (const z of zs) zToPlane(anchors, z, place);
  return { hover, slide: (performance.now() - t) / calls };
}"""


def _browser_speed(plane: StoredPlane, calls: int) -> None:
    from devtools.browser import browser_missing_reason, chromium
    from vaeapp.web import files

    reason = browser_missing_reason()
    if reason:
        print(f"  browser: skipped ({reason})")
        return
    with chromium() as browser:
        page = browser.new_page()
        page.set_content("<!doctype html><title>rules</title>")
        page.add_script_tag(content=files.read(files.PLANE_RULES_JS))
        args = [
            plane.points.ravel().tolist(),
            plane.means.ravel().tolist(),
            int(plane.means.shape[1]),
            calls,
            plane.pick_radius(),
            NEIGHBOURS,
            PLACE_NEIGHBOURS,
        ]
        page.evaluate(_JS_TIME, [*args[:3], 20, *args[4:]])  # warm-up
        got = page.evaluate(_JS_TIME, args)
    print(
        f"  browser planeToZ (hover): {got['hover']:.3f} ms per call; "
        f"zToPlane (slider): {got['slide']:.3f} ms per call "
        f"({len(plane.points):,} anchors)"
    )


def _transform(plane: StoredPlane, calls: int) -> None:
    import umap

    from vaeapp.explore.planes import UMAP_MIN_DIST, UMAP_NEIGHBOURS, UMAP_SEED

    reducer = umap.UMAP(
        n_neighbors=UMAP_NEIGHBOURS,
        min_dist=UMAP_MIN_DIST,
        random_state=UMAP_SEED,
        n_jobs=1,
    )
    started = time.perf_counter()
    reducer.fit(plane.means)
    print(f"  umap-learn fit: {time.perf_counter() - started:.1f} s (numba included)")
    rng = np.random.default_rng(2)
    zs = rng.normal(0.0, 1.0, (calls + 1, plane.means.shape[1])).astype(np.float32)
    started = time.perf_counter()
    reducer.transform(zs[:1])  # numba compiles transform's functions here
    print(f"  umap-learn first transform: {time.perf_counter() - started:.1f} s")
    times = []
    for z in zs[1:]:
        started = time.perf_counter()
        reducer.transform(z[None])
        times.append(time.perf_counter() - started)
    print(
        f"  umap-learn transform of one z: {1e3 * statistics.median(times):.1f} ms"
        f" (median of {calls})"
    )


def main(argv: list[str] | None = None) -> None:
    """Parse the options, print the figures."""
    from vaeapp.store.listing import find_model
    from vaeapp.store.reading import load_model

    parser = argparse.ArgumentParser(prog="python -m bench.plane_rules")
    parser.add_argument("--model", default="mnist-20d")
    parser.add_argument("--sample", type=int, default=500)
    parser.add_argument("--calls", type=int, default=200)
    parser.add_argument("--no-browser", action="store_true")
    parser.add_argument("--transform", action="store_true")
    args = parser.parse_args(argv)
    plane = stored_plane(load_model(find_model(args.model)), "umap")
    print(f"{args.model}: {len(plane.points):,} points, {plane.means.shape[1]} dims")
    _fidelity(plane, args.sample)
    print("speed:")
    _numpy_speed(plane, args.calls)
    if not args.no_browser:
        _browser_speed(plane, args.calls)
    if args.transform:
        _transform(plane, min(args.calls, 50))


if __name__ == "__main__":
    main()
