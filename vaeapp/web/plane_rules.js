// The rules between a stored nonlinear plane (UMAP) and z, in the browser:
// the same sums as vaeapp/explore/projection.py (plane_click_to_z and
// StoredPlane.coords), so that the live decode under the pointer is the z a
// click there selects, and the z marker follows the sliders where the server
// would put it (tests/browser/test_plane_rules_js.py holds them equal).
// - map -> z: within the pick radius of the nearest anchor, its latent mean;
//   else the inverse-distance-weighted mean (weights 1 / d^2, Shepard 1968)
//   of the latent means of the k anchors nearest on the map;
// - z -> map: an anchor's own point for its mean, else the weighted mean of
//   the map points of the k anchors nearest in latent space.
// Anchors: { ids (m,) the held-out rows, points (m * 2), means (m * dim),
// dim } (planeAnchors). A plain script with no imports, like map_common.js.

const PLANE_SAME_Z = 1e-12; // squared latent distance under which z is a stored mean

// The anchors of a model whose points are its stored plane's: all points, or
// the rows data.anchor_rows names (Python's projection.anchor_rows); means
// (m * dim) float32 come with the model's points.
function planeAnchors(model) {
  if (!model.anchorMeans) return null;
  const dim = model.latentDim, m = model.anchorMeans.length / dim;
  const ids = model.anchorRows || Int32Array.from({ length: m }, (_, i) => i);
  const points = new Float32Array(2 * m);
  for (let a = 0; a < m; a++) {
    points[2 * a] = model.points[2 * ids[a]];
    points[2 * a + 1] = model.points[2 * ids[a] + 1];
  }
  return { ids, points, means: model.anchorMeans, dim };
}

// The k rows of coords (m * dim) nearest target (dim,), nearest first (ties
// to the lower row), with their squared distances: { rows, squared }.
function planeNearest(coords, dim, target, k) {
  const m = coords.length / dim, rows = [], squared = [];
  k = Math.min(k, m);
  for (let r = 0; r < m; r++) {
    let s = 0;
    for (let c = 0; c < dim; c++) {
      const d = coords[r * dim + c] - target[c];
      s += d * d;
    }
    if (rows.length === k && s >= squared[k - 1]) continue;
    let at = rows.length === k ? k - 1 : rows.length;
    while (at > 0 && squared[at - 1] > s) {
      rows[at] = rows[at - 1];
      squared[at] = squared[at - 1];
      at--;
    }
    rows[at] = r;
    squared[at] = s;
  }
  return { rows, squared };
}

// The 1 / squared weighted mean (dim,) of rows of values (m * dim), summed
// in row order as projection.weighted_mean.
function planeWeighted(values, dim, rows, squared) {
  const out = new Float64Array(dim);
  let total = 0;
  for (let j = 0; j < rows.length; j++) {
    const w = 1 / squared[j];
    total += w;
    for (let c = 0; c < dim; c++) out[c] += w * values[rows[j] * dim + c];
  }
  for (let c = 0; c < dim; c++) out[c] /= total;
  return out;
}

// Map position xy -> { z (dim,) Float64Array, image (the held-out row whose
// mean it is, or -1), rows (the held-out rows weighed) }.
function planeToZ(anchors, xy, radius, k) {
  const { rows, squared } = planeNearest(anchors.points, 2, xy, k);
  const ids = rows.map((r) => anchors.ids[r]);
  if (Math.sqrt(squared[0]) <= radius) {
    const r = rows[0], dim = anchors.dim;
    return { z: Float64Array.from(anchors.means.subarray(r * dim, (r + 1) * dim)), image: ids[0], rows: ids };
  }
  return { z: planeWeighted(anchors.means, anchors.dim, rows, squared), image: -1, rows: ids };
}

// z (dim,) -> its map position [x, y].
function zToPlane(anchors, z, k) {
  const { rows, squared } = planeNearest(anchors.means, anchors.dim, z, k);
  if (squared[0] <= PLANE_SAME_Z) {
    return [anchors.points[2 * rows[0]], anchors.points[2 * rows[0] + 1]];
  }
  return Array.from(planeWeighted(anchors.points, 2, rows, squared));
}
