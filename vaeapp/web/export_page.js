// The exported one-file explorer (vaeapp/export/html_file.py) around the shared map:
// reads the model from the JSON in <script id="vae-data">, draws the WebGL
// map with scatter_map.js (drawScatterMap; map_common.js's inlineModel,
// drawImage) and decodes with decoder.js (decode, toImageData), the page's
// own code. Everything runs here, in the browser: the selected image and its
// sliders, the map's selection and search, the real image under the pointer,
// the manifold grid and the prior samples. A plain script after
// regl-scatterplot, decoder.js, map_common.js and scatter_map.js; it fetches
// nothing.
//
// On a linear plane every z this page selects lies in the map's plane: z =
// centre + x u + y v (data.plane, all (latent_dim,)). On a stored plane
// (data.stored: UMAP) a map position becomes z by plane_rules.js's rule, the
// page's server's own, and z a position by its forward rule; data.plane is
// then the PCA plane the grid varies. The state is the selected z and its
// map position [x, y].

const DATA = JSON.parse(document.getElementById("vae-data").textContent);
const PLANE = DATA.plane;
const STORED = DATA.stored; // null on a linear plane
const [Z_LO, Z_HI] = DATA.range;
const SLIDER_STEP = 0.01; // as the page's z sliders
const GRID_MS_PER_FRAME = 30; // decode grid rows for this long, then let the page draw

const S = {
  xy: [0, 0], // the selected z's map coordinates
  z: null, // the selected z, Float32Array (latent_dim,)
  picked: null, // the test point a click landed on, or null
  focus: null, // {i, serial}: the test point a search flies the map to
  gridRect: null, // [x0, x1, y0, y1] when the grid's extent is shown on the map
  samples: [], // prior samples, each a Float32Array (latent_dim,)
  seed: 1,
};
let MODEL = null;
let ANCHORS = null; // a stored plane's anchors (plane_rules.js)

function byId(id) {
  return document.getElementById(id);
}

function clamp(v) {
  return Math.min(Z_HI, Math.max(Z_LO, v));
}

// Plane coordinates [x, y] -> z (latent_dim,) = centre + x u + y v.
function lift(xy) {
  const z = new Float32Array(PLANE.centre.length);
  for (let k = 0; k < z.length; k++) {
    z[k] = PLANE.centre[k] + xy[0] * PLANE.u[k] + xy[1] * PLANE.v[k];
  }
  return z;
}

// z (latent_dim,) -> its plane coordinates [x, y].
function project(z) {
  let x = 0, y = 0;
  for (let k = 0; k < z.length; k++) {
    const d = z[k] - PLANE.centre[k];
    x += d * PLANE.u[k];
    y += d * PLANE.v[k];
  }
  return [x, y];
}

// Map position [x, y] -> z (latent_dim,): lift on a linear plane, the
// stored plane's rule (planeToZ) on UMAP.
function toZ(xy) {
  if (!STORED) return lift(xy);
  return Float32Array.from(planeToZ(ANCHORS, xy, STORED.pick_radius, STORED.neighbours).z);
}

// z (latent_dim,) -> its map position [x, y].
function toMap(z) {
  return STORED ? zToPlane(ANCHORS, z, STORED.place_neighbours) : project(z);
}

// Select z (a grid cell's, a sample's) wherever it lies: the map marks it.
function selectZ(z) {
  S.z = Float32Array.from(z);
  S.xy = toMap(S.z);
  S.picked = null;
  redraw();
}

// --- the standard normal quantile ---------------------------------------------
// Wichura's AS241, with the coefficients and order of operations of Python's
// statistics.NormalDist.inv_cdf, which vaeapp.explore.manifold.grid_axis uses: the
// grid's coordinates are the page's, to the last bit.
const AS241 = {
  a: [2.5090809287301226727e+3, 3.3430575583588128105e+4, 6.7265770927008700853e+4,
      4.5921953931549871457e+4, 1.3731693765509461125e+4, 1.9715909503065514427e+3,
      1.3314166789178437745e+2, 3.3871328727963666080e+0],
  b: [5.2264952788528545610e+3, 2.8729085735721942674e+4, 3.9307895800092710610e+4,
      2.1213794301586595867e+4, 5.3941960214247511077e+3, 6.8718700749205790830e+2,
      4.2313330701600911252e+1, 1.0],
  c: [7.74545014278341407640e-4, 2.27238449892691845833e-2, 2.41780725177450611770e-1,
      1.27045825245236838258e+0, 3.64784832476320460504e+0, 5.76949722146069140550e+0,
      4.63033784615654529590e+0, 1.42343711074968357734e+0],
  d: [1.05075007164441684324e-9, 5.47593808499534494600e-4, 1.51986665636164571966e-2,
      1.48103976427480074590e-1, 6.89767334985100004550e-1, 1.67638483018380384940e+0,
      2.05319162663775882187e+0, 1.0],
  e: [2.01033439929228813265e-7, 2.71155556874348757815e-5, 1.24266094738807843860e-3,
      2.65321895265761230930e-2, 2.96560571828504891230e-1, 1.78482653991729133580e+0,
      5.46378491116411436990e+0, 6.65790464350110377720e+0],
  f: [2.04426310338993978564e-15, 1.42151175831644588870e-7, 1.84631831751005468180e-5,
      7.86869131145613259100e-4, 1.48753612908506148525e-2, 1.36929880922735805310e-1,
      5.99832206555887937690e-1, 1.0],
};

function horner(coefficients, r) {
  return coefficients.reduce((acc, k) => acc * r + k, 0);
}

function normalQuantile(p) {
  const q = p - 0.5;
  if (Math.abs(q) <= 0.425) {
    const r = 0.180625 - q * q;
    return (horner(AS241.a, r) * q) / horner(AS241.b, r);
  }
  let r = Math.sqrt(-Math.log(q <= 0 ? p : 1 - p));
  let x;
  if (r <= 5) {
    r -= 1.6;
    x = horner(AS241.c, r) / horner(AS241.d, r);
  } else {
    r -= 5;
    x = horner(AS241.e, r) / horner(AS241.f, r);
  }
  return q < 0 ? -x : x;
}

// The n coordinates of one grid axis, increasing, as vaeapp.explore.manifold.grid_axis:
// Gaussian quantiles at linspace(q, 1 - q, n), or evenly spaced between the
// same end points.
function gridAxis(n, q, spacing) {
  const out = [];
  if (spacing === "quantile") {
    const step = (1 - q - q) / (n - 1);
    for (let i = 0; i < n; i++) out.push(Math.fround(normalQuantile(i === n - 1 ? 1 - q : q + i * step)));
  } else {
    const edge = normalQuantile(1 - q), step = (2 * edge) / (n - 1);
    for (let i = 0; i < n; i++) out.push(Math.fround(i === n - 1 ? edge : -edge + i * step));
  }
  return out;
}

// --- the map and the selected z -------------------------------------------------

function mapData() {
  const zero = PLANE.u.map(() => 0);
  return {
    token: "export", z: Array.from(S.z), marker: S.xy.slice(),
    u: STORED ? zero : PLANE.u, v: STORED ? zero : PLANE.v,
    centre: STORED ? zero : PLANE.centre, nonlinear: Boolean(STORED),
    pick_radius: STORED && STORED.pick_radius, neighbours: STORED && STORED.neighbours,
    place_neighbours: STORED && STORED.place_neighbours,
    range: DATA.range, height: DATA.height, axis_titles: STORED ? STORED.titles : PLANE.titles,
    // The grid's extent is a rectangle on its own (PCA) plane, none on UMAP's.
    grid_rect: STORED ? null : S.gridRect, path: [], samples: S.samples.map(toMap),
    ellipses: [], colour_by: -1, images_note: DATA.images_note, focus: S.focus,
  };
}

// The test images (uint8, n x h*w*c), unzipped once from DATA.images, or null.
const IMAGES = DATA.images ? gunzip(DATA.images) : null;

function gunzip(base64) {
  const bytes = Uint8Array.from(atob(base64), (c) => c.charCodeAt(0));
  const stream = new Blob([bytes]).stream().pipeThrough(new DecompressionStream("gzip"));
  return new Response(stream).arrayBuffer().then((buffer) => new Uint8Array(buffer));
}

// Test image i as pixels in [0, 1], for the map's hover (null: none here).
function realImage(i) {
  if (!IMAGES) return null;
  const n = MODEL.shape[0] * MODEL.shape[1] * MODEL.shape[2];
  return IMAGES.then((all) => Float32Array.from(all.subarray(i * n, (i + 1) * n), (v) => v / 255));
}

// A lasso or box: how many points, and how many of each class.
function selected(selection) {
  const ids = document.querySelector(".vae-explorer").__gl.selected;
  const counts = new Map();
  for (const i of ids) {
    const name = MODEL.names.length ? MODEL.names[MODEL.labels[i]] : "all";
    counts.set(name, (counts.get(name) || 0) + 1);
  }
  const parts = [...counts].map(([name, k]) => `${name}: ${k}`);
  byId("vae-selection").textContent =
    `${selection.count} test images selected${parts.length ? ` (${parts.join(", ")})` : ""}.`;
}

// A search, read as the page's server reads it (explore.selection.search):
// "#12" is test image 12; a class name (any case) its first image; "12" test
// image 12. The map flies there and z moves to it.
function search(text) {
  const query = text.trim();
  const index = (digits) => (/^\d+$/.test(digits) && Number(digits) < MODEL.count ? Number(digits) : -1);
  const c = MODEL.names.findIndex((n) => n.toLowerCase() === query.toLowerCase());
  let i = -1;
  if (query.startsWith("#")) i = index(query.slice(1));
  else if (c >= 0) i = MODEL.labels.indexOf(c);
  else i = index(query);
  byId("vae-selection").textContent = i < 0 ? `Search: nothing found for "${query}".` : "";
  if (i < 0) return;
  S.focus = { i, serial: (S.focus ? S.focus.serial : 0) + 1 };
  commit([MODEL.points[2 * i], MODEL.points[2 * i + 1], i]);
}

// A click or release on the map: [x, y], or [x, y, i] on test point i.
function commit(xy) {
  S.xy = [clamp(xy[0]), clamp(xy[1])];
  S.picked = xy.length > 2 ? xy[2] : null;
  S.z = toZ(S.xy);
  redraw();
}

function drawSelected() {
  const z = S.z, titles = STORED ? STORED.titles : PLANE.titles;
  drawImage(byId("vae-selected"), decode(MODEL, z), MODEL.shape);
  const values = Array.from(z, (v, k) => `z${k + 1} = ${v >= 0 ? "+" : ""}${v.toFixed(2)}`);
  byId("vae-values").textContent = values.join("  ");
  byId("vae-x").value = String(S.xy[0]);
  byId("vae-y").value = String(S.xy[1]);
  byId("vae-x-label").textContent = `${titles[0]} = ${S.xy[0].toFixed(2)}`;
  byId("vae-y-label").textContent = `${titles[1]} = ${S.xy[1].toFixed(2)}`;
  let note = "";
  if (S.picked !== null) {
    const label = MODEL.names.length ? `, ${MODEL.names[MODEL.labels[S.picked]]}` : "";
    note = `test image #${S.picked}${label}: its mean encoding`;
  }
  byId("vae-picked-note").textContent = note;
}

function redraw() {
  drawScatterMap(byId("vae-host"), MODEL, mapData(),
                 { commit, select: selected, search, realImage });
  drawSelected();
}

function setupSliders() {
  for (const [id, axis] of [["vae-x", 0], ["vae-y", 1]]) {
    const input = byId(id);
    Object.assign(input, { min: String(Z_LO), max: String(Z_HI), step: String(SLIDER_STEP) });
    input.addEventListener("input", () => {
      S.xy[axis] = clamp(Number(input.value));
      S.picked = null;
      S.z = toZ(S.xy);
      redraw();
    });
  }
}

// --- the manifold grid ------------------------------------------------------------

const GRID = { run: 0, n: DATA.grid.n, q: DATA.grid.q, spacing: DATA.grid.spacings[0] };

// The grid's n x n cells, one canvas each, decoded a few rows per frame so the
// page stays responsive on large grids; a newer request stops an older one.
// Row i (top to bottom) has y decreasing, column j x increasing, as
// vaeapp.explore.manifold.grid_points, on data.plane (the PCA plane when the
// map shows a stored one); a click on a cell selects its z.
function drawGrid() {
  const { n, q, spacing } = GRID;
  const run = ++GRID.run;
  const axis = gridAxis(n, q, spacing);
  const box = byId("vae-grid");
  const [h, w] = MODEL.shape;
  box.replaceChildren();
  box.style.gridTemplateColumns = `repeat(${n}, 1fr)`;
  box.style.setProperty("--vae-aspect", `${w} / ${h}`);
  box.dataset.n = String(n);
  box.dataset.done = "false";
  const cells = [];
  for (let row = 0; row < n; row++) {
    for (let col = 0; col < n; col++) {
      const cell = document.createElement("canvas");
      cell.className = "vae-cell";
      cell.width = w;
      cell.height = h;
      cell.dataset.row = String(row);
      cell.dataset.col = String(col);
      cell.__xy = [axis[col], axis[n - 1 - row]];
      cells.push(cell);
    }
  }
  box.append(...cells);
  byId("vae-grid-note").textContent =
    `${n}x${n} images decoded at ${PLANE.titles[0].split(" ")[0]}, ` +
    `${PLANE.titles[1].split(" ")[0]} in [${axis[0].toFixed(2)}, ${axis[n - 1].toFixed(2)}] ` +
    `(${spacing} spacing). Click a cell to select it.`;
  let next = 0;
  function work() {
    if (run !== GRID.run) return;
    const start = performance.now();
    while (next < cells.length && performance.now() - start < GRID_MS_PER_FRAME) {
      const cell = cells[next++];
      drawImage(cell, decode(MODEL, lift(cell.__xy)), MODEL.shape);
    }
    if (next < cells.length) requestAnimationFrame(work);
    else box.dataset.done = "true";
  }
  work();
  if (S.gridRect) {
    S.gridRect = [axis[0], axis[n - 1], axis[0], axis[n - 1]];
    redraw();
  }
}

function setupGrid() {
  const g = DATA.grid;
  const nInput = byId("vae-grid-n"), qInput = byId("vae-grid-q");
  Object.assign(nInput, { min: "2", max: String(g.n_max), step: "1", value: String(g.n) });
  Object.assign(qInput, {
    min: String(g.q_min), max: String(g.q_max), step: String(g.q_step), value: String(g.q),
  });
  byId("vae-grid-n-value").textContent = String(g.n);
  nInput.addEventListener("input", () => {
    GRID.n = Math.min(g.n_max, Math.max(2, Math.round(Number(nInput.value))));
    byId("vae-grid-n-value").textContent = String(GRID.n);
    drawGrid();
  });
  qInput.addEventListener("change", () => {
    const q = Number(qInput.value);
    // As vaeapp.explore.manifold.check_grid: strictly between 0 and 0.5.
    if (!(Number.isFinite(q) && q > 0 && q < 0.5)) {
      byId("vae-grid-note").textContent = "Quantile q must be strictly between 0 and 0.5.";
      return;
    }
    GRID.q = q;
    drawGrid();
  });
  const spacing = byId("vae-grid-spacing");
  for (const name of g.spacings) {
    const label = document.createElement("label");
    const radio = document.createElement("input");
    Object.assign(radio, { type: "radio", name: "vae-spacing", value: name,
                           checked: name === GRID.spacing });
    radio.addEventListener("change", () => {
      GRID.spacing = name;
      drawGrid();
    });
    label.append(radio, ` ${name} `);
    spacing.appendChild(label);
  }
  byId("vae-grid-extent").addEventListener("change", (e) => {
    S.gridRect = e.target.checked ? [0, 0, 0, 0] : null; // drawGrid sets the extent
    if (S.gridRect) drawGrid();
    else redraw();
  });
  byId("vae-grid").addEventListener("click", (e) => {
    const cell = e.target.closest("canvas.vae-cell");
    if (cell && STORED) selectZ(lift(cell.__xy));
    else if (cell) commit(cell.__xy);
  });
}

// --- samples from the prior -----------------------------------------------------

// mulberry32: a small seeded generator of uniform numbers in [0, 1). The
// samples are seeded, so a page shows the same ones on every opening, though
// not the same as the page's NumPy draws.
function uniforms(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

// count draws from N(0, temperature^2 I), each a Float32Array (latent_dim,)
// (Box-Muller on the seeded uniforms).
function priorSamples(count, temperature, seed) {
  const next = uniforms(seed), dim = PLANE.centre.length, out = [];
  for (let i = 0; i < count; i++) {
    const z = new Float32Array(dim);
    for (let k = 0; k < dim; k++) {
      const u1 = 1 - next(), u2 = next(); // u1 in (0, 1]: log(u1) is finite
      z[k] = temperature * Math.sqrt(-2 * Math.log(u1)) * Math.cos(2 * Math.PI * u2);
    }
    out.push(z);
  }
  return out;
}

function drawSamples() {
  const box = byId("vae-samples");
  box.replaceChildren();
  for (const z of S.samples) {
    const canvas = document.createElement("canvas");
    canvas.className = "vae-sample";
    drawImage(canvas, decode(MODEL, z), MODEL.shape);
    canvas.addEventListener("click", () => (STORED ? selectZ(z) : commit(project(z))));
    box.appendChild(canvas);
  }
  redraw();
}

function setupSamples() {
  const countInput = byId("vae-sample-count"), tempInput = byId("vae-sample-temp");
  Object.assign(countInput, { max: String(DATA.samples.max), value: String(DATA.samples.count) });
  byId("vae-sample-draw").addEventListener("click", () => {
    const count = Math.min(DATA.samples.max, Math.max(1, Math.round(Number(countInput.value) || 1)));
    const temperature = Math.min(2, Math.max(0.1, Number(tempInput.value) || 1));
    countInput.value = String(count);
    tempInput.value = String(temperature);
    S.samples = priorSamples(count, temperature, S.seed++);
    drawSamples();
  });
  byId("vae-sample-clear").addEventListener("click", () => {
    S.samples = [];
    drawSamples();
  });
}

function start() {
  MODEL = inlineModel(DATA.assets);
  ANCHORS = planeAnchors(MODEL);
  if (STORED) byId("vae-grid-extent").disabled = true; // no rectangle on UMAP's plane
  S.z = lift([0, 0]); // the test set's mean encoding, or 0 on two dimensions
  S.xy = STORED ? toMap(S.z) : [0, 0];
  setupSliders();
  setupGrid();
  setupSamples();
  S.samples = priorSamples(DATA.samples.count, 1, S.seed++);
  drawSamples(); // draws the map too
  drawGrid();
  document.body.dataset.ready = "true";
}

try {
  start();
} catch (error) {
  // Shown on the page: a file opened from disk has no console most people read.
  byId("vae-error").textContent = `This explorer could not start: ${error.message}`;
  throw error;
}
