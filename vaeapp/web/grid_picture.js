// The manifold grid with its controls, drawn in the browser from the decoder
// (a Streamlit component, vaeapp/ui/components/grid_picture.py). A change of
// n, q or the spacing redraws the grid at once, here; the server hears the
// settings SETTLE_MS after the last change (for the map's extent, the caption
// and the download). A click on a cell reports [row, col] through the "cell"
// trigger. The axes are those of vaeapp/explore/manifold.py, computed alike:
// the standard normal quantile by Wichura's AS241 (Python's
// statistics.NormalDist().inv_cdf), numpy's linspace and its linear
// quantile; where the settings are the server's, its own axes (data.xs,
// data.ys) are drawn. For a model whose default grid this browser draws
// slower than data.slow_ms (the server's rule, grid_picture.py's
// GRID_BROWSER_MAX_MS), the server draws the picture (data.src), which the
// "slow" trigger asks for; the page says so. Follows decoder.js and
// decoder_file.js in one module.

const GRID_SETTLE_MS = 250;
const GRID_CELLS = 225; // the default 15x15 grid, which data.slow_ms is for
const G2 = { models: {}, columns: {}, columnFiles: {} };

// Wichura, M.J. (1988), "Algorithm AS241: The Percentage Points of the
// Normal Distribution", Applied Statistics 37(3): 477-484; the same
// coefficients and steps as CPython's statistics._normal_dist_inv_cdf.
function normalQuantile(p) {
  const q = p - 0.5;
  if (Math.abs(q) <= 0.425) {
    const r = 0.180625 - q * q;
    const num = (((((((2.5090809287301226727e+3 * r + 3.3430575583588128105e+4) * r +
      6.7265770927008700853e+4) * r + 4.5921953931549871457e+4) * r +
      1.3731693765509461125e+4) * r + 1.9715909503065514427e+3) * r +
      1.3314166789178437745e+2) * r + 3.3871328727963666080e+0) * q;
    const den = (((((((5.2264952788528545610e+3 * r + 2.8729085735721942674e+4) * r +
      3.9307895800092710610e+4) * r + 2.1213794301586595867e+4) * r +
      5.3941960214247511077e+3) * r + 6.8718700749205790830e+2) * r +
      4.2313330701600911252e+1) * r + 1.0);
    return num / den;
  }
  let r = Math.sqrt(-Math.log(q <= 0 ? p : 1 - p));
  let num, den;
  if (r <= 5.0) {
    r -= 1.6;
    num = (((((((7.74545014278341407640e-4 * r + 2.27238449892691845833e-2) * r +
      2.41780725177450611770e-1) * r + 1.27045825245236838258e+0) * r +
      3.64784832476320460504e+0) * r + 5.76949722146069140550e+0) * r +
      4.63033784615654529590e+0) * r + 1.42343711074968357734e+0);
    den = (((((((1.05075007164441684324e-9 * r + 5.47593808499534494600e-4) * r +
      1.51986665636164571966e-2) * r + 1.48103976427480074590e-1) * r +
      6.89767334985100004550e-1) * r + 1.67638483018380384940e+0) * r +
      2.05319162663775882187e+0) * r + 1.0);
  } else {
    r -= 5.0;
    num = (((((((2.01033439929228813265e-7 * r + 2.71155556874348757815e-5) * r +
      1.24266094738807843860e-3) * r + 2.65321895265761230930e-2) * r +
      2.96560571828504891230e-1) * r + 1.78482653991729133580e+0) * r +
      5.46378491116411436990e+0) * r + 6.65790464350110377720e+0);
    den = (((((((2.04426310338993978564e-15 * r + 1.42151175831644588870e-7) * r +
      1.84631831751005468180e-5) * r + 7.86869131145613259100e-4) * r +
      1.48753612908506148525e-2) * r + 1.36929880922735805310e-1) * r +
      5.99832206555887937690e-1) * r + 1.0);
  }
  const x = num / den;
  return q < 0 ? -x : x;
}

// numpy.linspace(start, stop, n) in float64.
function linspace(start, stop, n) {
  const step = (stop - start) / (n - 1);
  const out = Array.from({ length: n }, (_, i) => i * step + start);
  out[n - 1] = stop;
  return out;
}

// numpy.quantile(sorted, p) with its default linear method, in float64.
function sortedQuantile(sorted, p) {
  const at = p * (sorted.length - 1), lo = Math.floor(at);
  const hi = Math.min(lo + 1, sorted.length - 1), t = at - lo;
  const a = sorted[lo], b = sorted[hi], diff = b - a;
  return t >= 0.5 ? b - diff * (1 - t) : a + diff * t;
}

// manifold.grid_axis: n increasing coordinates, rounded to float32.
function gridAxis(n, q, spacing, column) {
  let values;
  if (spacing === "data") values = linspace(q, 1 - q, n).map((p) => sortedQuantile(column, p));
  else if (spacing === "quantile") values = linspace(q, 1 - q, n).map(normalQuantile);
  else {
    const edge = normalQuantile(1 - q);
    values = linspace(-edge, edge, n);
  }
  return values.map(Math.fround);
}

function sameSettings(a, b) {
  return a.n === b.n && a.q === b.q && a.spacing === b.spacing;
}

// The x and y axes for settings s: the server's where they are its settings.
function gridAxes(root, s) {
  const data = root.__data;
  if (sameSettings(s, data)) return [data.xs, data.ys];
  const columns = G2.columns[data.columns_key];
  if (s.spacing === "data") {
    if (!columns || !columns.values) return null;
    return [gridAxis(s.n, s.q, s.spacing, columns.values[0]),
            gridAxis(s.n, s.q, s.spacing, columns.values[1])];
  }
  const axis = gridAxis(s.n, s.q, s.spacing, null);
  return [axis, axis];
}

// Decode the n x n grid into the canvas: row i has y decreasing, column j
// x increasing (manifold.grid_points), other dimensions at data.base.
function drawGrid(root) {
  const data = root.__data, s = root.__settings;
  const model = G2.models[data.token];
  if (!model || !model.layers || model.slow) return false;
  const axes = gridAxes(root, s);
  if (!axes) return false;
  const [xs, ys] = axes, n = s.n;
  const [h, w] = model.shape, [dx, dy] = data.dims;
  const canvas = root.querySelector("canvas.vae-grid");
  const key = JSON.stringify([data.token, data.dims, data.base, xs, ys]);
  if (canvas.dataset.by === "browser" && root.__drawnKey === key) return true;
  if (canvas.width !== n * w || canvas.height !== n * h) {
    Object.assign(canvas, { width: n * w, height: n * h });
  }
  const start = performance.now();
  const zs = [];
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < n; j++) {
      const z = data.base.slice();
      z[dy] = ys[n - 1 - i];
      z[dx] = xs[j];
      zs.push(z);
    }
  }
  // One batch for the whole grid, drawn into one ImageData.
  const values = decodeBatch(model, zs), size = values.length / (n * n);
  const image = new ImageData(n * w, n * h);
  for (let cell = 0; cell < n * n; cell++) {
    const i = Math.floor(cell / n), j = cell % n;
    putPixels(values, cell * size, model.shape, image, j * w, i * h);
  }
  canvas.getContext("2d").putImageData(image, 0, 0);
  const each = (performance.now() - start) / (n * n);
  if (model.times.length === 0) {
    model.times.push(each);
    if (each * GRID_CELLS > data.slow_ms) {
      model.slow = true;
      root.__component.setTriggerValue("slow", true);
    }
  }
  root.__drawnKey = key;
  canvas.dataset.n = String(n);
  canvas.dataset.by = "browser";
  canvas.dataset.settings = `${n}|${s.q}|${s.spacing}`;
  canvas.dataset.ms = String(Math.round(each * n * n));
  root.dataset.draws = String(Number(root.dataset.draws || 0) + 1);
  return true;
}

// The server's picture (data.src) where the browser does not draw.
function drawServerGrid(root) {
  const data = root.__data;
  if (!data.src) return;
  const canvas = root.querySelector("canvas.vae-grid");
  const image = new Image();
  image.onload = () => {
    if (root.__data !== data) return;
    Object.assign(canvas, { width: image.naturalWidth, height: image.naturalHeight });
    canvas.getContext("2d").drawImage(image, 0, 0);
    canvas.dataset.n = String(data.n);
    canvas.dataset.by = "server";
    canvas.dataset.settings = `${data.n}|${data.q}|${data.spacing}`;
  };
  image.src = data.src;
}

function showGridNote(root) {
  const model = G2.models[root.__data.token];
  root.querySelector(".vae-grid-note").textContent = model && model.slow
    ? "This model decodes too slowly in this browser for the grid: the server " +
      "draws it, after each change of the settings."
    : "";
}

function redraw(root) {
  showControls(root);
  if (!drawGrid(root)) drawServerGrid(root);
  showGridNote(root);
}

function showControls(root) {
  const s = root.__settings;
  const n = root.querySelector('input[name="n"]');
  if (Number(n.value) !== s.n) n.value = s.n;
  root.querySelector("output.vae-grid-n").textContent = String(s.n);
  const q = root.querySelector('input[name="q"]');
  if (document.activeElement !== q && Number(q.value) !== s.q) q.value = s.q.toFixed(3);
  for (const radio of root.querySelectorAll('input[name^="spacing"]')) {
    radio.checked = radio.value === s.spacing;
  }
}

function sendSettings(root) {
  clearTimeout(root.__timer);
  root.__timer = 0;
  root.__sent = { ...root.__settings };
  root.__component.setTriggerValue("settings", { ...root.__settings });
}

// A control changed: draw now (fetching the data's quantiles first if the
// data spacing needs them), tell the server once the changes settle.
function changed(root, patch) {
  const next = { ...root.__settings, ...patch };
  if (!(next.n >= 2 && next.n <= root.__data.n_max)) return;
  if (!(next.q >= root.__data.q_min && next.q <= root.__data.q_max)) return;
  root.__settings = next;
  if (next.spacing === "data") {
    loadColumns(root.__data).then(() => {
      if (root.__settings === next) redraw(root);
    }, () => {});
  }
  redraw(root);
  clearTimeout(root.__timer);
  root.__timer = setTimeout(() => sendSettings(root), GRID_SETTLE_MS);
}

// The encoded test set's two dimensions, sorted, for the data spacing.
function loadColumns(data) {
  const key = data.columns_key;
  if (!G2.columns[key]) {
    const entry = { values: null };
    const assets = G2.columnFiles[key];
    if (!assets) return Promise.reject(new Error(`no values for ${key}`));
    entry.ready = (assets.file ? fetchBytes(assets.file) : Promise.resolve(
      fromB64(assets.inline, Float32Array).buffer)).then((buffer) => {
      const all = new Float32Array(buffer);
      entry.values = [all.subarray(0, assets.count), all.subarray(assets.count)];
    });
    G2.columns[key] = entry;
  }
  return G2.columns[key].ready;
}

function control(labelText, input) {
  const label = document.createElement("label");
  label.className = "vae-grid-control";
  label.append(labelText, input);
  return label;
}

function buildGrid(parent, data) {
  // Only the old root: Streamlit keeps the component's <style> (its CSS, with
  // isolate_styles off) in the same parent element.
  parent.querySelector(":scope > .vae-grid-box")?.remove();
  const root = document.createElement("div");
  root.className = "vae-grid-box";
  const controls = document.createElement("div");
  controls.className = "vae-grid-controls";
  const n = Object.assign(document.createElement("input"), {
    type: "range", name: "n", min: 2, max: data.n_max, step: 1,
  });
  n.setAttribute("aria-label", "Grid size n");
  n.addEventListener("input", () => changed(root, { n: Number(n.value) }));
  const nOut = document.createElement("output");
  nOut.className = "vae-grid-n";
  const q = Object.assign(document.createElement("input"), {
    type: "number", name: "q", min: data.q_min, max: data.q_max, step: data.q_step,
  });
  q.setAttribute("aria-label", "Quantile q");
  q.addEventListener("input", () => {
    const value = Number(q.value);
    if (q.value !== "" && Number.isFinite(value)) changed(root, { q: value });
  });
  const spacing = document.createElement("fieldset");
  const legend = document.createElement("legend");
  legend.textContent = "Spacing";
  spacing.append(legend);
  const group = `spacing-${Math.random().toString(36).slice(2, 8)}`;
  for (const [value, text] of data.spacings) {
    const radio = Object.assign(document.createElement("input"), {
      type: "radio", name: group, value,
    });
    radio.addEventListener("change", () => changed(root, { spacing: value }));
    const label = document.createElement("label");
    label.append(radio, ` ${text}`);
    spacing.append(label);
  }
  const sizeLabel = control("Grid size n ", nOut);
  controls.append(sizeLabel, n, control("Quantile q ", q), spacing);
  const canvas = document.createElement("canvas");
  canvas.className = "vae-grid";
  canvas.dataset.testid = "vae-grid";
  canvas.setAttribute("role", "img");
  canvas.setAttribute("aria-label", "manifold grid of decoded images");
  canvas.addEventListener("click", (event) => {
    const box = canvas.getBoundingClientRect();
    const cells = Number(canvas.dataset.n);
    const col = Math.floor(((event.clientX - box.left) / box.width) * cells);
    const row = Math.floor(((event.clientY - box.top) / box.height) * cells);
    if (!(row >= 0 && row < cells && col >= 0 && col < cells)) return;
    if (root.__timer) sendSettings(root); // the server's axes are these first
    root.__component.setTriggerValue("cell", [row, col]);
  });
  const note = document.createElement("p");
  note.className = "vae-grid-note";
  root.append(controls, canvas, note);
  parent.append(root);
  return root;
}

// data: token, n, q, spacing, xs, ys (the server's axes for them), dims
// [x, y], base (z, the other dimensions' values), n_max, q_min, q_max,
// q_step, spacings [[value, name]], slow_ms, columns_key, once per key columns
// ({file} or {inline}, with count: the data spacing's sorted values), src (the server's
// picture, only after a "slow" trigger), and once per model assets (the
// decoder, as decoder_file.js's loadDecoder takes it).
export default function (component) {
  const data = component.data[0];
  const { parentElement } = component;
  if (data.assets) {
    const model = loadDecoder(data.assets);
    G2.models[data.token] = model;
    model.ready.then(() => {
      for (const root of document.querySelectorAll(".vae-grid-box")) {
        if (root.__data && root.__data.token === data.token) redraw(root);
      }
    }, () => {
      if (G2.models[data.token] === model) delete G2.models[data.token];
      component.setTriggerValue("missing", data.token);
    });
  }
  if (data.columns) G2.columnFiles[data.columns_key] = data.columns;
  if (!G2.models[data.token] || !G2.columnFiles[data.columns_key]) {
    component.setTriggerValue("missing", data.token);
  }
  const root = parentElement.querySelector(".vae-grid-box") || buildGrid(parentElement, data);
  root.__component = component;
  root.__data = data;
  const server = { n: data.n, q: data.q, spacing: data.spacing };
  // The server's settings, unless the person's latest change is not yet sent,
  // or not yet in the server's render (this one answers an older message).
  const pending = root.__timer || (root.__sent && !sameSettings(root.__sent, server));
  if (!root.__settings || !pending) root.__settings = server;
  if (root.__sent && sameSettings(root.__sent, server)) root.__sent = null;
  if (root.__settings.spacing === "data") {
    loadColumns(data).then(() => redraw(root), () => {});
  }
  redraw(root);
}
