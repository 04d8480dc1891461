// What the page's map (scatter_map.js, regl-scatterplot) and the exported
// one-file explorer (vaeapp/export/html_file.py, export_page.js) share: the
// model as the browser holds it, the live preview's drawing, class colours,
// the shapes drawn over the points (z marker, grid extent, path, prior
// samples, posterior outlines) and the explorer's elements. A plain script
// with no imports or exports, like decoder.js, whose functions it uses: the
// page's module is decoder.js, this file, scatter_map.js and latent_map.js
// joined (vaeapp/ui/components/latent_map_script.py); the export joins
// decoder.js, this file, scatter_map.js and export_page.js. Nothing here
// fetches: how the model's data arrives is the host's business.

const G = (window.__vaeapp = window.__vaeapp || { models: {} });
const RATE_IDLE_MS = 600; // the decode rate text goes once decoding stops this long
// The live preview's column beside the map, or under it on a narrow page
// (.vae-narrow in latent_map.css).
const SIDE_PX = 168 + 12; // the live preview's column and the gap before it
const NARROW_PX = 520; // below this root width the preview goes under the map
const MIN_ELLIPSE = 0.3; // latent units: smaller outlines are drawn this big, dotted
const PALETTE = [
  "#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd",
  "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf",
];

// The model the browser works with, before its data is there: points and
// labels (needed for the map) and layers (for live decoding) are null until
// set.
function emptyModel(assets) {
  return {
    latentDim: assets.latent_dim, count: assets.count, names: assets.names,
    shape: assets.image_shape || [28, 28, 1],
    factorNames: assets.factor_names || [],
    points: null, labels: null, factors: null, layers: null, figures: {},
    anchorMeans: null, anchorRows: null, // a stored plane's (plane_rules.js)
  };
}

// A model whose data came inline as base64 (browser_assets.pack_model):
// points (count, 2) float32, labels (count,) uint8, factors (count, k)
// float32 if any, and the decoder's layers, all ready at once.
function inlineModel(assets) {
  const model = emptyModel(assets);
  model.points = fromB64(assets.points, Float32Array);
  model.labels = fromB64(assets.labels, Uint8Array);
  if (assets.factors) model.factors = fromB64(assets.factors, Float32Array);
  for (const [k, v] of Object.entries(assets.figures || {})) {
    model.figures[k] = fromB64(v, Float32Array);
  }
  if (assets.anchor_means) model.anchorMeans = fromB64(assets.anchor_means, Float32Array);
  if (assets.anchor_rows) model.anchorRows = fromB64(assets.anchor_rows, Uint32Array);
  model.layers = unpackDecoder(assets.layers);
  return model;
}

// The preview while nothing is under the pointer: empty, with a hint (the
// selected z's digit is shown large beside the map; a copy here would only
// repeat it).
const IDLE_HINT = "move over the map";
function showIdle(root) {
  const st = root.__state, live = root.querySelector(".vae-live");
  root.dataset.decoder = st.model.layers ? "ready" : "loading";
  live.getContext("2d").clearRect(0, 0, live.width, live.height);
  live.classList.add("vae-idle");
  root.querySelector(".vae-z").textContent = IDLE_HINT;
}

// Draws one decoded image of the model's shape (grey or colour) on the
// canvas, sized to it; returns how many values were not finite (drawn black).
function drawImage(canvas, pixels, shape) {
  const [h, w] = shape;
  if (canvas.width !== w || canvas.height !== h) {
    canvas.width = w;
    canvas.height = h;
  }
  canvas.__image = toImageData(pixels, shape, canvas.__image);
  canvas.getContext("2d").putImageData(canvas.__image, 0, 0);
  return countNonFinite(pixels);
}

// Colour of class d: the ten-colour palette, then evenly spread hues.
function classColour(d) {
  return d < PALETTE.length ? PALETTE[d] : `hsl(${(d * 137.508) % 360}, 60%, 48%)`;
}

// What is drawn over the points is a list of shapes in Plotly's layout
// format (scatter_map.js draws them as SVG), so that it moves without the
// points being drawn again.
function svgPath(points, close) {
  if (!points || points.length < 2) return null;
  const d = points.map((p, k) => `${k ? "L" : "M"}${p[0]},${p[1]}`).join(" ");
  return close ? `${d} Z` : d;
}

// An outline scaled about its centre so that its larger side is at least
// MIN_ELLIPSE: a 2-sigma ellipse of a confident encoding would otherwise hide
// under the z marker. Returns [points, enlarged].
function visibleOutline(points) {
  const xs = points.map((p) => p[0]), ys = points.map((p) => p[1]);
  const x0 = Math.min(...xs), x1 = Math.max(...xs), y0 = Math.min(...ys), y1 = Math.max(...ys);
  const size = Math.max(x1 - x0, y1 - y0);
  if (size >= MIN_ELLIPSE) return [points, false];
  const cx = (x0 + x1) / 2, cy = (y0 + y1) / 2, k = MIN_ELLIPSE / Math.max(size, 1e-9);
  return [points.map(([x, y]) => [cx + (x - cx) * k, cy + (y - cy) * k]), true];
}

// A closed SVG path of a five-pointed star of outer radius r at (x, y), in
// data units (the map's axes have equal scales, so it is not stretched).
function starPath(x, y, r) {
  const corners = [];
  for (let k = 0; k < 10; k++) {
    const radius = k % 2 ? r * 0.45 : r;
    const angle = Math.PI / 2 + (k * Math.PI) / 5;
    corners.push(`${x + radius * Math.cos(angle)},${y + radius * Math.sin(angle)}`);
  }
  return `M${corners.join("L")}Z`;
}

function shapes(data) {
  const out = [];
  if (data.grid_rect) {
    const [x0, x1, y0, y1] = data.grid_rect;
    out.push({ type: "rect", x0, x1, y0, y1,
               line: { color: "#444", width: 1, dash: "dot" } });
  }
  const path = svgPath(data.path, false);
  if (path) out.push({ type: "path", path, line: { color: "#111", width: 2, dash: "dot" } });
  // Prior samples: white five-pointed stars outlined in black, unlike every
  // class colour and the viridis scale; sized with the map's range.
  const span = data.range ? data.range[1] - data.range[0] : 8;
  const r = 0.0125 * span;
  for (const [x, y] of data.samples || []) {
    out.push({ type: "path", path: starPath(x, y, r), name: "sample",
               fillcolor: "#ffffff", line: { color: "#111", width: 1.5 } });
  }
  const [x, y] = data.marker, m = 0.18;
  const cross = { color: "#111", width: 3 };
  // Named, so that tests find the z marker among the other shapes. A map
  // with nothing to mark (the compare view's, before a pick) has no cross.
  for (const [y0, y1] of data.cross === false ? [] : [[y - m, y + m], [y + m, y - m]]) {
    out.push({ type: "line", name: "marker", x0: x - m, x1: x + m, y0, y1, line: cross });
  }
  // Posterior ellipses last, over the z marker (an inspected digit's ellipse is
  // centred on it), with a white halo so they stand out on the cross.
  for (const e of data.ellipses || []) {
    if (!e.points || e.points.length < 2) continue;
    const [points, enlarged] = visibleOutline(e.points);
    const outline = svgPath(points, true);
    out.push({ type: "path", path: outline, line: { color: "#fff", width: 5 } });
    out.push({ type: "path", path: outline,
               line: { color: e.color, width: 2.5, dash: enlarged ? "dot" : "solid" } });
  }
  return out;
}

G.shapes = shapes; // what a render draws over the points, for the tests

function buildDom(parent) {
  const root = document.createElement("div");
  root.className = "vae-explorer";
  root.innerHTML = `
    <div class="vae-map" data-testid="vae-map"></div>
    <div class="vae-side">
      <div class="vae-caption">Under the pointer</div>
      <canvas class="vae-live" width="28" height="28" data-testid="vae-live"></canvas>
      <div class="vae-z" data-testid="vae-live-z"></div>
      <div class="vae-rate" data-testid="vae-rate"></div>
    </div>`;
  parent.appendChild(root);
  return root;
}
