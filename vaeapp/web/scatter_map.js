// The latent map at scale: every held-out point (up to 1,000,000) drawn by
// regl-scatterplot (vendored: vendor/build_scatterplot.sh), with pan and zoom
// (wheel, pinch, drag; double-click or "Reset" goes back), lasso and box
// selection, colour by class, factor, per-image figure or point density, a
// legend whose classes filter the map, and a search box. A plain script after
// decoder.js and map_common.js, whose helpers it uses (drawImage, showIdle,
// classColour, buildDom): the page's module joins the three with
// latent_map.js. Like map_common.js it fetches nothing itself; what it asks of
// the server goes through the host's callbacks (commit, select, search).
//
// Coordinates: data.range [lo, hi] on both axes is the library's normalised
// square [-1, 1]; its camera's view matrix maps that square to the canvas.

const GL_PICK_PX = 6; // a release nearer than this to where it started is a click
const GL_MARK_PX = 9; // half the z marker's cross and a star's outer radius, in px
const GL_RING_PX = 10; // the ring of the compare view's linked hover
const GL_AXIS_PX = 20; // left of the drawing area: the y axis's text
const GL_RAMP = [ // viridis, 9 stops: the continuous colour scale
  "#440154", "#472d7b", "#3b528b", "#2c728e", "#21918c",
  "#28ae80", "#5ec962", "#addc30", "#fde725",
];
const GL_RAMP_STEPS = 64;
// Above this many points they are drawn as squares without blending (the
// library's performance mode, which its authors advise past 2 million; at
// 1 million under a software WebGL it did not measurably help).
const GL_FAST_POINTS = 2000000;
const GL_FOCUS_DISTANCE = 0.1; // a search's flight ends 10x zoomed in
const GL_LASSO_CLICK_MS = 400; // a click this soon after a lasso belongs to it
const GL_MODES = [["pan", "Pan"], ["lasso", "Lasso"], ["box", "Box"]];

// The colour ramp as GL_RAMP_STEPS hex colours, interpolated between stops.
function glRamp() {
  const rgb = GL_RAMP.map((h) => [1, 3, 5].map((k) => parseInt(h.slice(k, k + 2), 16)));
  const out = [];
  for (let s = 0; s < GL_RAMP_STEPS; s++) {
    const t = (s / (GL_RAMP_STEPS - 1)) * (rgb.length - 1), k = Math.min(rgb.length - 2, Math.floor(t));
    const f = t - k;
    const c = rgb[k].map((v, j) => Math.round(v + (rgb[k + 1][j] - v) * f));
    out.push(`#${c.map((v) => v.toString(16).padStart(2, "0")).join("")}`);
  }
  return out;
}

// Per-point values of the colouring chosen: null for class colours, else a
// Float32Array (count,) (NaN where unknown) and its name.
function colourValues(model, by) {
  if (by === "density") return { name: "point density (log)", values: densityValues(model) };
  if (by.startsWith("factor:")) {
    const f = Number(by.slice(7)), k = model.factorNames.length;
    if (!model.factors || !(f >= 0 && f < k)) return null;
    const values = new Float32Array(model.count);
    for (let i = 0; i < model.count; i++) values[i] = model.factors[i * k + f];
    return { name: model.factorNames[f], values };
  }
  const figure = model.figures && model.figures[by];
  return figure ? { name: GL_FIGURE_NAMES[by] || by, values: figure } : null;
}
const GL_FIGURE_NAMES = { elbo: "−ELBO (nats)", recon: "reconstruction (nats)", kl: "KL (nats)" };

// log(1 + points in its cell) of a 256 x 256 grid over the map's range: a
// density that costs two passes over the points, at any count.
function densityValues(model) {
  const n = model.count, cells = 256, counts = new Uint32Array(cells * cells);
  const cell = new Uint32Array(n), [lo, hi] = model.range, k = cells / (hi - lo);
  for (let i = 0; i < n; i++) {
    const cx = Math.min(cells - 1, Math.max(0, Math.floor((model.points[2 * i] - lo) * k)));
    const cy = Math.min(cells - 1, Math.max(0, Math.floor((model.points[2 * i + 1] - lo) * k)));
    cell[i] = cy * cells + cx;
    counts[cell[i]]++;
  }
  const values = new Float32Array(n);
  for (let i = 0; i < n; i++) values[i] = Math.log1p(counts[cell[i]]);
  return values;
}

// Values scaled to [0, 1] between their 1st and 99th percentiles (a few
// outliers of −ELBO would otherwise take the whole scale); NaN goes to 0.
// Returns { scaled, lo, hi }; order is kept, so colour follows the value.
function scaleValues(values) {
  const finite = [];
  const stride = Math.max(1, Math.floor(values.length / 20000));
  for (let i = 0; i < values.length; i += stride) if (Number.isFinite(values[i])) finite.push(values[i]);
  finite.sort((a, b) => a - b);
  const lo = finite.length ? finite[Math.floor(0.01 * (finite.length - 1))] : 0;
  const hi = finite.length ? finite[Math.ceil(0.99 * (finite.length - 1))] : 1;
  const span = hi > lo ? hi - lo : 1, scaled = new Float32Array(values.length);
  for (let i = 0; i < values.length; i++) {
    const v = (values[i] - lo) / span;
    scaled[i] = Number.isFinite(v) ? Math.min(1, Math.max(0, v)) : 0;
  }
  return { scaled, lo, hi };
}

// The library's column data: x, y normalised to [-1, 1] over range, valueA
// the class (categorical), valueB the scaled colour value (continuous).
function glColumns(model, range, scaled) {
  const n = model.count, c = (range[0] + range[1]) / 2, h = (range[1] - range[0]) / 2;
  const x = new Float32Array(n), y = new Float32Array(n), valueA = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    x[i] = (model.points[2 * i] - c) / h;
    y[i] = (model.points[2 * i + 1] - c) / h;
    valueA[i] = model.labels[i];
  }
  return { x, y, valueA, valueB: scaled || new Float32Array(n) };
}

function glPointSize(count) {
  return count <= 20000 ? 4 : count <= 200000 ? 3 : 2;
}

// Data coordinates <-> client pixels through the camera's view matrix (a
// square canvas: the projection is the identity).
function glToPixel(gl, x, y) {
  const v = gl.plot.get("cameraView"), [lo, hi] = gl.range;
  const nx = (2 * (x - lo)) / (hi - lo) - 1, ny = (2 * (y - lo)) / (hi - lo) - 1;
  const sx = v[0] * nx + v[4] * ny + v[12], sy = v[1] * nx + v[5] * ny + v[13];
  return [((sx + 1) / 2) * gl.side, ((1 - sy) / 2) * gl.side];
}

function glToData(gl, px, py) {
  const v = gl.plot.get("cameraView"), [lo, hi] = gl.range;
  const sx = (2 * px) / gl.side - 1 - v[12], sy = 1 - (2 * py) / gl.side - v[13];
  const det = v[0] * v[5] - v[4] * v[1];
  const nx = (v[5] * sx - v[4] * sy) / det, ny = (v[0] * sy - v[1] * sx) / det;
  return [lo + ((nx + 1) / 2) * (hi - lo), lo + ((ny + 1) / 2) * (hi - lo)];
}

// The map's elements inside the explorer's .vae-map box, built once.
function glDom(root) {
  const box = root.querySelector(".vae-map");
  box.classList.add("vae-gl");
  box.innerHTML = `
    <div class="vae-gl-tools">
      ${GL_MODES.map(([m, t]) => `<button type="button" data-mode="${m}">${t}</button>`).join("")}
      <button type="button" data-testid="vae-reset" class="vae-gl-reset">Reset view</button>
      <select class="vae-gl-colour" data-testid="vae-colour" aria-label="Colour by"></select>
      <input class="vae-gl-search" data-testid="vae-search" type="search"
             placeholder="Search: index, class or file" maxlength="200">
    </div>
    <div class="vae-gl-area" data-testid="vae-gl-area">
      <canvas class="vae-gl-canvas"></canvas>
      <svg class="vae-gl-overlay"></svg>
      <div class="vae-gl-axis vae-gl-x"></div><div class="vae-gl-axis vae-gl-y"></div>
    </div>
    <div class="vae-gl-legend" data-testid="vae-legend"></div>`;
  const side = root.querySelector(".vae-side");
  side.insertAdjacentHTML("beforeend", `
    <div class="vae-caption vae-real-caption">Held-out image</div>
    <canvas class="vae-real" width="28" height="28" data-testid="vae-real"></canvas>
    <div class="vae-real-text" data-testid="vae-real-text"></div>`);
  return box;
}

// The shapes map_common.js's shapes() lists (in Plotly's shape format), drawn as
// SVG in pixels of the current view: grid rectangle, path, samples, marker,
// ellipses.
function glOverlay(root) {
  const gl = root.__gl, st = root.__state, svg = gl.box.querySelector(".vae-gl-overlay");
  const px = (x, y) => glToPixel(gl, x, y).map((v) => v.toFixed(1)).join(",");
  const outBefore = [], over = [];
  // The z marker and the prior samples' stars keep their size in pixels at
  // any zoom; the rest (grid extent, path, ellipses) are sizes in z. Shapes
  // listed after the marker (posterior ellipses) are drawn over it.
  let afterMarker = false;
  for (const s of shapes(st.layoutData)) {
    if (s.name === "marker") afterMarker = true;
    if (s.name === "marker" || s.name === "sample") continue;
    const out = afterMarker ? over : outBefore;
    const line = s.line || {}, dash = line.dash === "dot" ? ' stroke-dasharray="2,3"' : "";
    const stroke = `stroke="${line.color}" stroke-width="${line.width}"${dash}`;
    if (s.type === "rect") {
      const a = glToPixel(gl, s.x0, s.y1), b = glToPixel(gl, s.x1, s.y0);
      out.push(`<rect x="${a[0]}" y="${a[1]}" width="${b[0] - a[0]}" height="${b[1] - a[1]}" fill="none" ${stroke}/>`);
    } else if (s.type === "line") {
      out.push(`<path data-name="${s.name || ""}" d="M${px(s.x0, s.y0)}L${px(s.x1, s.y1)}" ${stroke}/>`);
    } else if (s.type === "path") {
      const d = s.path.replace(/(-?[\d.e+-]+),(-?[\d.e+-]+)/g, (_, x, y) => px(Number(x), Number(y)));
      out.push(`<path d="${d}" fill="${s.fillcolor || "none"}" ${stroke}/>`);
    }
  }
  const out = outBefore, r = GL_MARK_PX;
  for (const [x, y] of st.layoutData.samples || []) {
    const [cx, cy] = glToPixel(gl, x, y), corners = [];
    for (let k = 0; k < 10; k++) {
      const radius = k % 2 ? r * 0.45 : r, angle = -Math.PI / 2 + (k * Math.PI) / 5;
      corners.push(`${(cx + radius * Math.cos(angle)).toFixed(1)},${(cy + radius * Math.sin(angle)).toFixed(1)}`);
    }
    out.push(`<path data-name="sample" d="M${corners.join("L")}Z" fill="#fff" stroke="#111" stroke-width="1.5"/>`);
  }
  const ring = root.__ring, pts = st.model.points;
  if (ring !== null && ring !== undefined && pts && ring < st.model.count) {
    const [cx, cy] = glToPixel(gl, pts[2 * ring], pts[2 * ring + 1]);
    out.push(`<circle data-name="link" cx="${cx.toFixed(1)}" cy="${cy.toFixed(1)}" r="${GL_RING_PX}" fill="none" stroke="#e8590c" stroke-width="3"/>`);
  }
  if (st.layoutData.cross !== false) {
    const [cx, cy] = glToPixel(gl, ...st.marker);
    for (const k of [-1, 1]) {
      out.push(`<path data-name="marker" d="M${cx - r},${cy - k * r}L${cx + r},${cy + k * r}" stroke="#111" stroke-width="3"/>`);
    }
  }
  svg.innerHTML = out.concat(over).join("");
  glAxes(root);
}

// The visible range of each axis, written at its ends (the axes' titles
// between), so that a zoomed map still says where it is.
function glAxes(root) {
  const gl = root.__gl, st = root.__state;
  const [x0, y0] = glToData(gl, 0, gl.side), [x1, y1] = glToData(gl, gl.side, 0);
  gl.box.querySelector(".vae-gl-x").textContent =
    `${x0.toFixed(2)}  ← ${st.layoutData.axis_titles[0]} →  ${x1.toFixed(2)}`;
  gl.box.querySelector(".vae-gl-y").textContent =
    `${y0.toFixed(2)}  ← ${st.layoutData.axis_titles[1]} →  ${y1.toFixed(2)}`;
  gl.box.dataset.view = [x0, x1, y0, y1].map((v) => v.toFixed(4)).join(",");
}

// The colour-by menu: class (when there are classes), each factor, each
// stored per-image figure, density.
function glColourMenu(root) {
  const gl = root.__gl, model = root.__state.model, select = gl.box.querySelector(".vae-gl-colour");
  const options = [["class", "Colour: class"]];
  model.factorNames.forEach((n, f) => options.push([`factor:${f}`, `Colour: ${n}`]));
  for (const key of Object.keys(GL_FIGURE_NAMES)) {
    if (model.figures && model.figures[key]) options.push([key, `Colour: ${GL_FIGURE_NAMES[key]}`]);
  }
  options.push(["density", "Colour: point density"]);
  select.replaceChildren(...options.map(([value, text]) => new Option(text, value)));
  select.value = gl.colour;
}

// The legend: class swatches that filter the map when clicked, or the colour
// bar of a continuous value with its ends.
function glLegend(root) {
  const gl = root.__gl, model = root.__state.model, legend = gl.box.querySelector(".vae-gl-legend");
  legend.replaceChildren();
  if (gl.scale) {
    const bar = document.createElement("div");
    bar.className = "vae-gl-bar";
    bar.style.background = `linear-gradient(to right, ${GL_RAMP.join(",")})`;
    const [lo, hi] = [gl.scale.lo, gl.scale.hi].map((v) => v.toPrecision(4));
    legend.append(`${gl.scaleName}: ${lo}`, bar, hi);
    return;
  }
  model.names.forEach((name, d) => {
    const item = document.createElement("button");
    item.type = "button";
    item.className = "vae-gl-class";
    item.dataset.cls = String(d);
    item.classList.toggle("vae-off", gl.hidden.has(d));
    const dot = document.createElement("span");
    dot.style.background = classColour(d);
    item.append(dot, String(name)); // text, never HTML: names come from the data
    item.addEventListener("click", () => glToggleClass(root, d));
    legend.append(item);
  });
}

function glToggleClass(root, d) {
  const gl = root.__gl, model = root.__state.model;
  if (gl.hidden.has(d)) gl.hidden.delete(d);
  else gl.hidden.add(d);
  if (!gl.hidden.size) gl.plot.unfilter();
  else {
    const keep = [];
    for (let i = 0; i < model.count; i++) if (!gl.hidden.has(model.labels[i])) keep.push(i);
    gl.plot.filter(keep);
  }
  glLegend(root);
}

// Draws the points coloured as gl.colour says; resolves once drawn.
function glDrawPoints(root) {
  const gl = root.__gl, model = root.__state.model;
  const chosen = gl.colour === "class" ? null : colourValues(model, gl.colour);
  gl.scale = chosen ? scaleValues(chosen.values) : null;
  gl.scaleName = chosen ? chosen.name : "";
  const names = model.names.length ? model.names : ["point"];
  gl.plot.set({
    colorBy: gl.scale ? "valueB" : "valueA",
    pointColor: gl.scale ? glRamp() : names.map((_, d) => classColour(d)),
  });
  const started = performance.now();
  return gl.plot.draw(glColumns(model, gl.range, gl.scale && gl.scale.scaled), {
    zDataType: "categorical", wDataType: "continuous", preventFilterReset: true,
  }).then(() => {
    gl.box.dataset.drawMs = String(performance.now() - started);
    gl.box.dataset.colour = gl.colour;
    glLegend(root);
  });
}

function glSetMode(root, mode) {
  const gl = root.__gl;
  gl.mode = mode;
  gl.plot.set({
    mouseMode: mode === "pan" ? "panZoom" : "lasso",
    lassoType: mode === "box" ? "rectangle" : "freeform",
  });
  for (const b of gl.box.querySelectorAll("[data-mode]")) {
    b.classList.toggle("vae-on", b.dataset.mode === mode);
  }
  gl.box.dataset.mode = mode;
}

// A finished lasso or box: its polygon in data coordinates and the classes
// shown go to the host (the server recomputes the ids: it trusts no list of
// ids from a page); the ids the library found are kept for the tests.
function glLassoEnd(root, coordinates) {
  const gl = root.__gl, [lo, hi] = gl.range, h = (hi - lo) / 2, c = (lo + hi) / 2;
  const polygon = coordinates.map(([x, y]) => [c + x * h, c + y * h]);
  const shown = root.__state.model.names.map((_, d) => d).filter((d) => !gl.hidden.has(d));
  gl.lasso = { ids: gl.selected, at: performance.now() };
  gl.box.dataset.selected = String(gl.selected.length);
  if (root.__state.select) root.__state.select({ polygon, classes: shown, count: gl.selected.length });
}

// The real held-out image i beside the decoded one, with its reconstruction
// loss, when the host can give it (root.__state.realImage(i) -> Promise of
// pixels or null); otherwise the reason.
function glShowReal(root, i) {
  const st = root.__state, canvas = root.querySelector(".vae-real");
  const text = root.querySelector(".vae-real-text");
  root.dataset.hovered = i === null ? "" : String(i);
  if (i === null) {
    canvas.classList.add("vae-idle");
    text.textContent = "";
    return;
  }
  const recon = st.model.figures && st.model.figures.recon;
  const loss = recon ? ` · reconstruction ${recon[i].toFixed(1)} nats` : "";
  const label = st.model.names.length ? ` (${st.model.names[st.model.labels[i]]})` : "";
  text.textContent = `#${i}${label}${loss}`;
  const pending = st.realImage ? st.realImage(i) : null;
  if (!pending) {
    // Why there is no real image (the server's words, as text).
    text.textContent += ` · ${st.layoutData.images_note || "no real images here"}`;
    return;
  }
  pending.then((pixels) => {
    if (root.dataset.hovered !== String(i) || !pixels) return;
    canvas.classList.remove("vae-idle");
    drawImage(canvas, pixels, st.model.shape);
    root.dataset.realShown = String(i);
  });
}

// The pointer on the map: a live decode of the point under it at any zoom
// (root.__show, glShowFunction), a click commits z (on a point: that point).
function glPointer(root) {
  const gl = root.__gl, area = gl.box.querySelector(".vae-gl-area");
  let down = null, pending = null;
  const local = (e) => {
    const r = area.getBoundingClientRect();
    return [e.clientX - r.left, e.clientY - r.top];
  };
  area.addEventListener("pointermove", (e) => {
    const [px, py] = local(e);
    const xy = glToData(gl, px, py);
    root.__hover = xy;
    const first = pending === null;
    pending = xy;
    if (first) {
      requestAnimationFrame(() => {
        if (pending && root.__show) root.__show(pending);
        pending = null;
      });
    }
  });
  area.addEventListener("pointerdown", (e) => { down = local(e); });
  area.addEventListener("pointerup", (e) => {
    const at = local(e);
    if (!down || gl.mode !== "pan" || Math.hypot(at[0] - down[0], at[1] - down[1]) > GL_PICK_PX) {
      down = null;
      return;
    }
    down = null;
    // The point the library last said is under the pointer, if it still is
    // (its hover events come a frame late: a quick move then click would
    // otherwise pick the point the pointer left).
    const st = root.__state, i = gl.over, pts = st.model.points;
    const near = i !== null && Math.hypot(...glToPixel(gl, pts[2 * i], pts[2 * i + 1])
      .map((v, k) => v - at[k])) <= GL_PICK_PX + glPointSize(st.model.count);
    const point = near ? [pts[2 * i], pts[2 * i + 1], i] : null;
    const xy = glToData(gl, ...at).map((v) => Math.round(v * 1000) / 1000);
    glCommitted(root, point || xy);
  });
  area.addEventListener("pointerleave", () => {
    pending = null;
    root.__hover = null;
    showIdle(root);
  });
  area.addEventListener("dblclick", () => glReset(root));
}

// Maps given the same data.link (the compare view's two maps, one model
// each, the same test set) follow each other's pointer in the browser, with
// no round trip to Python: the test image hovered in one is ringed in every
// one of them, and each other map's live preview decodes that image's point
// on its own plane (for a 2-D model, its reconstruction from its mean).
function glLinkHover(root, i) {
  const link = root.__state && root.__state.link;
  if (!link) return;
  for (const other of document.querySelectorAll(".vae-explorer")) {
    const st = other.__state;
    if (!st || st.link !== link || !other.__gl) continue;
    const ring = i !== null && i < st.model.count ? i : null;
    if (other.__ring !== ring) {
      other.__ring = ring;
      other.dataset.linked = ring === null ? "" : String(ring);
      glOverlay(other);
    }
    if (other === root) continue;
    if (ring === null) showIdle(other);
    else other.__show([st.model.points[2 * ring], st.model.points[2 * ring + 1]]);
  }
}

// A stored plane's anchors (plane_rules.js), built once per model; null on
// a linear plane or before the points are there.
function glAnchors(st) {
  const model = st.model;
  if (!model.__anchors && model.points && model.anchorMeans) model.__anchors = planeAnchors(model);
  return model.__anchors || null;
}

// The z under map point xy on a stored plane, by the server's own rule
// (projection.plane_click_to_z): { z, image, rows }, or null without anchors.
function glStoredZ(st, xy) {
  const anchors = glAnchors(st), data = st.layoutData;
  return anchors ? planeToZ(anchors, xy, data.pick_radius, data.neighbours) : null;
}

// z chosen on the map: to the host (the server), and to the page's other
// listeners at once ("vaeapp-z", source "map"). On a stored plane (UMAP:
// data.nonlinear) the z is the plane's rule's, the server's too; a click on
// a point that is no anchor (sets above projection.ANCHORS_MAX) is the
// server's alone.
function glCommitted(root, point) {
  const st = root.__state;
  let z = null;
  if (st.layoutData.nonlinear) {
    const anchored = point.length < 3 || !st.model.anchorRows;
    const found = anchored ? glStoredZ(st, point.slice(0, 2)) : null;
    if (found && (point.length < 3 || found.image === point[2])) z = Float32Array.from(found.z);
  } else {
    z = Float32Array.from(st.z);
    const dx = point[0] - st.marker[0], dy = point[1] - st.marker[1];
    for (let k = 0; k < z.length; k++) z[k] += dx * st.u[k] + dy * st.v[k];
  }
  // The compare view's maps (st.link) mark a test image, not the page's z.
  if (z && !st.link) window.dispatchEvent(new CustomEvent("vaeapp-z", { detail: { z: Array.from(z), source: "map" } }));
  st.commit(point);
}

function glReset(root) {
  root.__gl.plot.reset();
}

// Fly to point i and mark it hovered (the search's answer).
function glFlyTo(root, i) {
  const gl = root.__gl;
  if (!(i >= 0 && i < root.__state.model.count)) return;
  const [lo, hi] = gl.range, c = (lo + hi) / 2, h = (hi - lo) / 2;
  const points = root.__state.model.points;
  const target = [(points[2 * i] - c) / h, (points[2 * i + 1] - c) / h];
  gl.plot.zoomToLocation(target, GL_FOCUS_DISTANCE, { transition: true, transitionDuration: 400 });
  gl.plot.select([i], { preventEvent: true });
  gl.selected = [i];
  gl.box.dataset.found = String(i);
}

// A z from elsewhere on the page (the sliders, issue 26): move the marker and
// the live decode here, with no round trip to the server; on a stored plane
// the marker goes where the server's rule (StoredPlane.coords) puts z.
function glFollowZ(root, z) {
  const st = root.__state;
  if (!st || st.link) return; // the compare view's maps mark no slider's z
  if (!Array.isArray(z) || z.length !== st.z.length || !z.every(Number.isFinite)) return;
  const anchors = st.layoutData.nonlinear ? glAnchors(st) : null;
  if (st.layoutData.nonlinear && !anchors) return;
  st.z = z.slice();
  let x = 0, y = 0;
  if (anchors) [x, y] = zToPlane(anchors, z, st.layoutData.place_neighbours);
  else {
    const origin = st.layoutData.centre || new Array(z.length).fill(0);
    for (let k = 0; k < z.length; k++) {
      x += (z[k] - origin[k]) * st.u[k];
      y += (z[k] - origin[k]) * st.v[k];
    }
  }
  st.marker = [x, y];
  st.layoutData = { ...st.layoutData, marker: [x, y], z: st.z };
  root.dataset.z = st.z.map((v) => v.toFixed(3)).join(",");
  glOverlay(root);
  if (root.__hover && root.__show) root.__show(root.__hover);
}

function glListenZ() {
  if (G.zListener) return;
  G.zListener = true;
  window.addEventListener("vaeapp-z", (e) => {
    const detail = e.detail || {};
    if (detail.source === "map") return;
    for (const root of document.querySelectorAll(".vae-explorer")) {
      if (root.__gl) glFollowZ(root, detail.z);
    }
  });
}

// The library's WebGL canvas, where it draws before copying to the map's 2-D
// canvas: by default it is as large as the window, and its float framebuffer
// and the copy cost in proportion (3 to 10x per frame under a software
// WebGL); the map's own size is enough.
function glRenderer(side) {
  const canvas = document.createElement("canvas");
  canvas.width = canvas.height = Math.ceil(side * window.devicePixelRatio);
  return window.reglScatterplot.createRenderer({ canvas });
}

// The drawing area's side in px: a square in the room across (beside the
// live preview, or under it on a narrow page) or the height asked for, less
// the axes. Sets the box's and the area's sizes.
function glFit(root, box, height) {
  const total = root.clientWidth || 800, narrow = total < NARROW_PX;
  root.classList.toggle("vae-narrow", narrow);
  const across = (narrow ? total : total - SIDE_PX) - GL_AXIS_PX;
  const side = Math.max(200, Math.floor(Math.min(height - 60, across)));
  box.style.width = `${side + GL_AXIS_PX}px`;
  const area = box.querySelector(".vae-gl-area");
  area.style.width = area.style.height = `${side}px`;
  area.style.setProperty("--vae-side", `${side}px`);
  return side;
}

// The map follows its column's width (the window, the sidebar opening or
// closing, the stylesheet arriving after the first draw): a new square side,
// the same view.
function glFollowWidth(root, height) {
  let seen = root.clientWidth;
  new ResizeObserver(() => {
    const gl = root.__gl;
    if (!gl || Math.abs(root.clientWidth - seen) <= 1) return;
    seen = root.clientWidth;
    const side = glFit(root, gl.box, height);
    if (side === gl.side) return;
    gl.side = side;
    gl.renderer.resize(side, side);
    gl.plot.set({ width: side, height: side });
    gl.box.dataset.side = String(side);
    glOverlay(root);
  }).observe(root);
}

// Builds the WebGL map in root once: library, DOM, events.
function glCreate(root, data) {
  const box = glDom(root);
  const side = glFit(root, box, data.height);
  root.querySelector(".vae-real").classList.add("vae-idle");
  const canvas = box.querySelector(".vae-gl-canvas");
  const count = root.__state.model.count, renderer = glRenderer(side);
  const plot = window.createScatterplot({
    canvas, width: side, height: side, pointSize: glPointSize(count),
    renderer,
    pointSizeSelected: 2, opacity: count > 200000 ? 0.5 : 0.8,
    backgroundColor: "#fafafa", lassoColor: "#e8590c", deselectOnDblClick: false,
    deselectOnEscape: true, actionKeyMap: { lasso: "shift" },
    lassoClearEvent: "deselect", pointColorHover: "#000000", pointColorActive: "#e8590c",
    performanceMode: count > GL_FAST_POINTS,
  });
  const gl = { plot, renderer, box, side, range: data.range.slice(), mode: "pan", over: null,
               colour: "class", hidden: new Set(), selected: [], scale: null };
  root.__gl = gl;
  plot.subscribe("view", () => glOverlay(root));
  plot.subscribe("pointOver", (i) => { gl.over = i; glShowReal(root, i); glLinkHover(root, i); });
  plot.subscribe("pointOut", () => { gl.over = null; glShowReal(root, null); glLinkHover(root, null); });
  plot.subscribe("select", ({ points }) => {
    // The release that ends a lasso near its start is also a click, which the
    // library answers by selecting the point under it: keep the lasso's ids.
    const late = gl.lasso && performance.now() - gl.lasso.at < GL_LASSO_CLICK_MS;
    if (late && gl.mode !== "pan" && points.length === 1) {
      gl.plot.select(gl.lasso.ids, { preventEvent: true });
      return;
    }
    gl.selected = points;
  });
  plot.subscribe("deselect", () => { gl.selected = []; });
  plot.subscribe("lassoEnd", ({ coordinates }) => glLassoEnd(root, coordinates));
  for (const b of box.querySelectorAll("[data-mode]")) {
    b.addEventListener("click", () => glSetMode(root, b.dataset.mode));
  }
  box.querySelector(".vae-gl-reset").addEventListener("click", () => glReset(root));
  box.querySelector(".vae-gl-colour").addEventListener("change", (e) => {
    gl.colour = e.target.value;
    glDrawPoints(root);
  });
  box.querySelector(".vae-gl-search").addEventListener("keydown", (e) => {
    if (e.key !== "Enter" || !root.__state.search) return;
    root.__state.search(e.target.value.slice(0, 200));
  });
  glSetMode(root, "pan");
  glPointer(root);
  glListenZ();
  glFollowWidth(root, data.height);
  box.dataset.side = String(side);
  return gl;
}

// Draws (or updates) the map in parentElement for model and data, as
// latent_explorer (vaeapp/ui/components/latent_map.py) describes data: z, u,
// v, marker, range, height, axis_titles, grid_rect, path, samples, ellipses,
// colour_by and token, and optionally cross (false: no z marker), link (a
// name that ties maps together for hovering) and nonlinear (a plane with no
// linear map back to z). The points are drawn again only when the token,
// range or colouring changes; otherwise only the shapes over them move. Host
// callbacks: commit([x, y]) on a click, or [x, y, i] on test point i;
// select({polygon, classes, count}) for a lasso or box; search(text);
// realImage(i). data.focus ({i, serial}) flies to point i once per serial.
function drawScatterMap(parentElement, model, data, host) {
  const root = ensureRootBare(parentElement, data);
  const colourBy = data.colour_by ?? -1;
  root.__state = {
    model, z: data.z, u: data.u, v: data.v, marker: data.marker, range: data.range,
    titles: data.axis_titles.map((t) => t.split(" ")[0]), colourBy, layoutData: data,
    link: data.link || null, commit: host.commit, select: host.select, search: host.search,
    realImage: host.realImage,
  };
  model.range = data.range;
  let gl = root.__gl;
  const key = `${data.token}|${data.range}|${colourBy}`;
  if (!gl) gl = glCreate(root, data);
  if (root.dataset.key !== key) {
    root.dataset.key = key;
    root.dataset.kind = "regl-scatterplot";
    root.__ring = null; // the new drawing has no ring
    root.dataset.linked = "";
    gl.range = data.range.slice();
    if (colourBy >= 0 && model.factors) gl.colour = `factor:${colourBy}`;
    glColourMenu(root);
    glDrawPoints(root).then(() => { root.dataset.drawn = key; });
  }
  if (data.focus && gl.focus !== data.focus.serial) {
    gl.focus = data.focus.serial;
    glFlyTo(root, data.focus.i);
  }
  glOverlay(root);
  root.dataset.z = data.z.map((v) => v.toFixed(3)).join(",");
  if (root.__hover && root.__show) root.__show(root.__hover);
  else showIdle(root);
  return root;
}

// The explorer's elements (map_common.js's buildDom) with the live preview's
// drawing, built on the first render.
function ensureRootBare(parentElement, data) {
  let root = parentElement.querySelector(".vae-explorer");
  if (!root) {
    root = buildDom(parentElement);
    root.querySelector(".vae-map").style.minHeight = `${data.height}px`;
    glShowFunction(root);
  }
  return root;
}

// root.__show(xy): decode z moved within the plane to map point xy, into the
// live preview.
function glShowFunction(root) {
  const live = root.querySelector(".vae-live"), label = root.querySelector(".vae-z");
  const rate = root.querySelector(".vae-rate");
  let frames = [], idle = null;
  root.__show = (xy) => {
    const st = root.__state;
    if (!st.model.layers) return;
    let z, source = "";
    if (st.layoutData.nonlinear) {
      // No linear map back to z: the z a click here would select (the
      // server's rule), a test image's or its neighbours' weighted mean.
      const found = glStoredZ(st, xy);
      if (!found) return;
      z = Float32Array.from(found.z);
      source = found.image >= 0 ? ` · #${found.image}` : ` · ${found.rows.length} nearest, weighted`;
    } else {
      z = Float32Array.from(st.z);
      const dx = xy[0] - st.marker[0], dy = xy[1] - st.marker[1];
      for (let k = 0; k < z.length; k++) z[k] += dx * st.u[k] + dy * st.v[k];
    }
    live.classList.remove("vae-idle");
    drawImage(live, decode(st.model, z), st.model.shape);
    root.dataset.liveZ = z.join(",");
    label.textContent = `${st.titles[0]} = ${xy[0].toFixed(2)}, ${st.titles[1]} = ${xy[1].toFixed(2)}${source}`;
    const now = performance.now();
    frames.push(now);
    frames = frames.filter((t) => now - t < 1000);
    root.dataset.decodes = String(Number(root.dataset.decodes || 0) + 1);
    rate.textContent = frames.length > 2 ? `${frames.length} decodes/s` : "";
    clearTimeout(idle);
    idle = setTimeout(() => { frames = []; rate.textContent = ""; }, RATE_IDLE_MS);
  };
}
