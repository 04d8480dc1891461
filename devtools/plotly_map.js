// The Plotly map that the page drew before the WebGL map (scatter_map.js)
// took over at every size, kept as the reference of bench/map_speed.py
// (devtools/map_page.py draws it with the vendored Plotly bundle). A plain
// script after decoder.js and vaeapp/web/map_common.js, whose helpers it
// uses: drawMap(parent, model, data, commit) draws data (latent_map.py's
// description) and calls commit([x, y]) or commit([x, y, i]) on a click.

const POINT_PICK_PX = 6; // how near a data point a release must be to pick it
// The plot area is a square showing exactly data.range on both axes, so a
// click anywhere in it is a valid z. Its side follows the room there is: the
// height asked for, or the width of a narrow column (the live preview then
// wraps under the map; .vae-narrow in latent_map.css).
const MARGIN = { l: 44, r: 12, t: 8, b: 40 };
const LEGEND_ROW_PX = 22;

// Text from the data (class names) as Plotly shows it: its labels take a few
// HTML tags, links among them, so <, > and & are written as entities.
function plotlyText(text) {
  return String(text).replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
}

function webglAvailable() {
  try {
    const c = document.createElement("canvas");
    return !!(c.getContext("webgl2") || c.getContext("webgl"));
  } catch (e) {
    return false;
  }
}

// Colouring by a continuous factor f (the shapes set's x, y, size or hue):
// one trace, a colour scale over the factor's values, a horizontal colour bar
// where the legend would be. Returns null when the map is coloured by class.
function factorTrace(model, kind, index, f) {
  if (f < 0 || !model.factors || f >= model.factorNames.length) return null;
  const k = model.factorNames.length, xs = [], ys = [], values = [], ids = [];
  for (let i = 0; i < model.count; i++) {
    xs.push(model.points[2 * i]);
    ys.push(model.points[2 * i + 1]);
    values.push(model.factors[i * k + f]);
    ids.push(i);
  }
  index.push(ids);
  const name = plotlyText(model.factorNames[f]);
  return [{
    type: kind, mode: "markers", name, x: xs, y: ys, showlegend: false,
    marker: {
      size: 4, color: values, colorscale: "Viridis", opacity: 0.7,
      colorbar: { orientation: "h", y: 1.0, yanchor: "bottom", thickness: 10,
                  len: 0.6, x: 0, xanchor: "left", title: { text: name, side: "right" } },
    },
    hovertemplate: `${name} %{marker.color:.2f}<extra></extra>`,
  }];
}

// The names the legend shows: the classes, or none under a colour scale.
function legendNames(model, colourBy) {
  return colourBy >= 0 && model.factors ? ["scale"] : model.names;
}

// One trace per class; ``index[c][k]`` is the test-set index of trace c's
// k-th point, so a hovered point can be named to Python.
function traces(model, kind, index, colourBy = -1) {
  const byFactor = factorTrace(model, kind, index, colourBy);
  if (byFactor) return byFactor;
  const out = [];
  // A data set without labels: one trace, one colour, no legend entry.
  const names = model.names.length ? model.names : ["test image"];
  for (let d = 0; d < names.length; d++) {
    const xs = [], ys = [], ids = [];
    for (let i = 0; i < model.count; i++) {
      if (model.labels[i] !== d) continue;
      xs.push(model.points[2 * i]);
      ys.push(model.points[2 * i + 1]);
      ids.push(i);
    }
    index.push(ids);
    const name = plotlyText(names[d]);
    out.push({
      type: kind, mode: "markers", name, x: xs, y: ys,
      marker: { size: 4, color: classColour(d), opacity: 0.65 },
      hovertemplate: name + "<extra></extra>",
      showlegend: model.names.length > 0,
    });
  }
  return out;
}


// Legend rows and entry width so that the entries fill whole rows evenly
// (one row when they fit): n entries over `width` px. Plotly's entrywidth is
// the text's part; the symbol and gaps take LEGEND_ITEM_PX more.
const LEGEND_ITEM_PX = 52;
function legendRows(names, width) {
  if (!names.length) return { rows: 0, entry: 0 }; // no labels: no legend
  const longest = Math.max(...names.map((n) => String(n).length));
  const natural = LEGEND_ITEM_PX + 7 * longest; // px of one entry, text included
  const rows = Math.max(1, Math.ceil((names.length * natural) / Math.max(width, 1)));
  const perRow = Math.ceil(names.length / rows);
  return {
    rows: Math.ceil(names.length / perRow),
    entry: Math.max(7 * longest, Math.floor(width / perRow) - LEGEND_ITEM_PX),
  };
}

// The map box's size: a square plot area of side min(room across, room down).
function mapSize(root, data, names) {
  const total = root.clientWidth || 800;
  const narrow = total < NARROW_PX;
  root.classList.toggle("vae-narrow", narrow);
  const across = (narrow ? total : total - SIDE_PX) - MARGIN.l - MARGIN.r;
  let legend = legendRows(names, across + MARGIN.r);
  let side = Math.min(across, data.height - MARGIN.t - MARGIN.b - legend.rows * LEGEND_ROW_PX);
  side = Math.max(120, Math.floor(side));
  legend = legendRows(names, side + MARGIN.r); // the legend may use the right margin
  return {
    width: side + MARGIN.l + MARGIN.r,
    height: side + MARGIN.t + MARGIN.b + legend.rows * LEGEND_ROW_PX,
    legend,
  };
}


function layout(data, size) {
  const r = data.range;
  return {
    margin: { ...MARGIN, t: MARGIN.t + size.legend.rows * LEGEND_ROW_PX },
    width: size.width,
    height: size.height,
    dragmode: false,
    hovermode: "closest",
    hoverdistance: POINT_PICK_PX,
    // Both ranges are exactly data.range: equal scaling may only shrink the
    // plot area (constrain: "domain"), never widen a range past what z may take.
    xaxis: { range: r.slice(), title: { text: data.axis_titles[0] }, zeroline: false,
             fixedrange: true, constrain: "domain" },
    yaxis: { range: r.slice(), title: { text: data.axis_titles[1] }, zeroline: false,
             fixedrange: true, scaleanchor: "x", scaleratio: 1, constrain: "domain" },
    legend: { orientation: "h", y: 1.0, yanchor: "bottom", x: 0, xanchor: "left",
              itemsizing: "constant", entrywidth: size.legend.entry,
              entrywidthmode: "pixels" },
    shapes: shapes(data),
    paper_bgcolor: "rgba(0,0,0,0)",
    plot_bgcolor: "#fafafa",
  };
}



function attachPointer(root) {
  const mapDiv = root.querySelector(".vae-map");
  const live = root.querySelector(".vae-live");
  const label = root.querySelector(".vae-z");
  const rate = root.querySelector(".vae-rate");
  let pending = null, dragging = false, frames = [], down = null, idle = null;

  function toLatent(event) {
    const full = mapDiv._fullLayout;
    if (!full) return null;
    const xa = full.xaxis, ya = full.yaxis;
    const box = mapDiv.getBoundingClientRect();
    const px = event.clientX - box.left - xa._offset;
    const py = event.clientY - box.top - ya._offset;
    if (px < 0 || py < 0 || px > xa._length || py > ya._length) return null;
    const [lo, hi] = root.__state.range; // the edge pixel may round past it
    return [xa.p2l(px), ya.p2l(py)].map((v) => Math.min(hi, Math.max(lo, v)));
  }

  // The visible test point within POINT_PICK_PX of the pointer, nearest
  // first: its test-set index, or null. A release there inspects that digit.
  function pickPoint(event) {
    const full = mapDiv._fullLayout, index = root.__traceIndex, pts = root.__state.model.points;
    if (!full || !index) return null;
    const xa = full.xaxis, ya = full.yaxis;
    const box = mapDiv.getBoundingClientRect();
    const px = event.clientX - box.left - xa._offset;
    const py = event.clientY - box.top - ya._offset;
    let best = null, bestD = POINT_PICK_PX;
    (mapDiv._fullData || []).forEach((trace, c) => {
      if (trace.visible !== true || !index[c]) return;
      for (const i of index[c]) {
        const d = Math.hypot(xa.l2p(pts[2 * i]) - px, ya.l2p(pts[2 * i + 1]) - py);
        if (d <= bestD) { bestD = d; best = i; }
      }
    });
    return best;
  }

  // The rate text says how many decodes the last second had; it goes when
  // decoding stops (the pointer rests or leaves), so it is never stale.
  function clearRate() {
    frames = [];
    rate.textContent = "";
  }

  function show(xy) {
    const st = root.__state;
    if (!st.model.layers) return; // the decoder has not arrived yet
    const z = Float32Array.from(st.z);
    // Move z within the map's plane only: z + dx * u + dy * v.
    const dx = xy[0] - st.marker[0], dy = xy[1] - st.marker[1];
    for (let k = 0; k < z.length; k++) z[k] += dx * st.u[k] + dy * st.v[k];
    live.classList.remove("vae-idle");
    const bad = drawImage(live, decode(st.model, z), st.model.shape);
    // The exact z drawn (float32 values), for tests that decode it elsewhere.
    root.dataset.liveZ = z.join(",");
    if (bad) root.dataset.nonfinite = String(Number(root.dataset.nonfinite || 0) + bad);
    label.textContent = `${st.titles[0]} = ${xy[0].toFixed(2)}, ${st.titles[1]} = ${xy[1].toFixed(2)}`;
    const now = performance.now();
    frames.push(now);
    frames = frames.filter((t) => now - t < 1000);
    root.dataset.decodes = String(Number(root.dataset.decodes || 0) + 1);
    rate.textContent = frames.length > 2 ? `${frames.length} decodes/s` : "";
    clearTimeout(idle);
    idle = setTimeout(clearRate, RATE_IDLE_MS);
  }

  function schedule(xy) {
    const first = pending === null;
    pending = xy;
    if (first) {
      requestAnimationFrame(() => {
        if (pending) show(pending);
        pending = null;
      });
    }
  }

  root.__show = show; // a linked map decodes here what is hovered there

  mapDiv.addEventListener("pointermove", (e) => {
    const xy = toLatent(e);
    root.__hover = xy; // kept, so that a redraw shows what is under the pointer
    if (xy) schedule(xy);
  });
  mapDiv.addEventListener("pointerdown", (e) => {
    if (!toLatent(e)) return;
    dragging = true;
    down = { x: e.clientX, y: e.clientY };
    // Plotly covers the page on mousedown; capture the pointer so the release
    // still reaches the map.
    mapDiv.setPointerCapture(e.pointerId);
  });
  mapDiv.addEventListener("pointerup", (e) => {
    const xy = toLatent(e);
    if (dragging && xy) {
      const st = root.__state;
      const still = down && Math.hypot(e.clientX - down.x, e.clientY - down.y) <= POINT_PICK_PX;
      const hit = still ? pickPoint(e) : null;
      const point = hit === null || hit === undefined ? null
        : [st.model.points[2 * hit], st.model.points[2 * hit + 1], hit];
      st.commit(point || xy.map((v) => Math.round(v * 1000) / 1000));
    }
    dragging = false;
  });
  mapDiv.addEventListener("pointerleave", () => {
    if (dragging || !root.__state) return;
    pending = null; // a frame already requested draws nothing
    root.__hover = null;
    clearTimeout(idle);
    clearRate();
    showIdle(root);
  });
}

// Maps given the same data.link (the compare view's two maps, one model
// each, the same test set) follow each other's pointer in the browser, with
// no round trip to Python: the test image hovered in one is ringed in every
// one of them, and each other map's live preview decodes that image's point
// on its own plane (for a 2-D model, its reconstruction from its mean).
const LINK_RING = { color: "#e8590c", width: 3 };
const LINK_RING_R = 0.16; // latent units: about 10 px on a 520 px map

function linkedRoots(link) {
  return [...document.querySelectorAll(".vae-explorer")]
    .filter((r) => r.__state && r.__state.link === link);
}

// The shapes a render drew, with the ring around test image root.__ring.
function withRing(root) {
  const st = root.__state, i = root.__ring, out = (root.__baseShapes || []).slice();
  if (i !== null && i !== undefined && st.model.points && i < st.model.count) {
    const x = st.model.points[2 * i], y = st.model.points[2 * i + 1], r = LINK_RING_R;
    out.push({ type: "circle", name: "link", x0: x - r, x1: x + r, y0: y - r, y1: y + r,
               line: LINK_RING });
  }
  return out;
}

// Ring test image i (null: none) on this map; decode it in the preview of
// a map other than the hovered one.
function linkTo(root, i, hovered) {
  const mapDiv = root.querySelector(".vae-map");
  if (!mapDiv._fullLayout) return;
  if (root.__ring !== i) {
    root.__ring = i;
    root.dataset.linked = i === null ? "" : String(i);
    Plotly.relayout(mapDiv, { shapes: withRing(root) });
  }
  if (root === hovered) return;
  const pts = root.__state.model.points;
  if (i === null) showIdle(root);
  else if (pts && i < root.__state.model.count) root.__show([pts[2 * i], pts[2 * i + 1]]);
}

function attachLink(root) {
  const mapDiv = root.querySelector(".vae-map");
  if (root.__linkHooked || !mapDiv.on) return;
  root.__linkHooked = true;
  mapDiv.on("plotly_hover", (event) => {
    const st = root.__state, p = event.points && event.points[0];
    if (!st || !st.link || !p) return;
    const ids = root.__traceIndex && root.__traceIndex[p.curveNumber];
    const i = ids ? ids[p.pointNumber] : undefined;
    if (i === undefined) return;
    for (const other of linkedRoots(st.link)) linkTo(other, i, root);
  });
  mapDiv.on("plotly_unhover", () => {
    const st = root.__state;
    if (!st || !st.link) return;
    for (const other of linkedRoots(st.link)) linkTo(other, null, root);
  });
}

// The map's box follows the explorer's width (the window, the sidebar opening
// or closing, the component's stylesheet arriving after the first draw): a new
// square size, with both axes back at the set range.
function followWidth(root) {
  const mapDiv = root.querySelector(".vae-map");
  let seen = root.clientWidth;
  new ResizeObserver(() => {
    const st = root.__state;
    if (!st || !mapDiv._fullLayout || Math.abs(root.clientWidth - seen) <= 1) return;
    seen = root.clientWidth;
    const size = mapSize(root, st.layoutData, legendNames(st.model, st.colourBy));
    mapDiv.style.width = `${size.width}px`;
    const r = st.range;
    Plotly.relayout(mapDiv, {
      width: size.width, height: size.height,
      "margin.t": MARGIN.t + size.legend.rows * LEGEND_ROW_PX,
      "legend.entrywidth": size.legend.entry,
      "xaxis.range": r.slice(), "yaxis.range": r.slice(),
    });
  }).observe(root);
}

// The explorer's elements, built on its first render; until the map is drawn
// its box holds the room the map will take, so the page below does not jump.
function ensureRoot(parentElement, data) {
  let root = parentElement.querySelector(".vae-explorer");
  if (!root) {
    root = buildDom(parentElement);
    root.querySelector(".vae-map").style.minHeight = `${data.height}px`;
    attachPointer(root);
    followWidth(root);
  }
  return root;
}



// Draws (or updates) the map in parentElement for model and data, as
// latent_explorer (vaeapp/ui/components/latent_map.py) describes data: z, u, v, marker,
// range, height, axis_titles, grid_rect, path, samples, ellipses, colour_by
// and token, and optionally cross (false: no z marker) and link (a name that
// ties maps together for hovering). The points are drawn again only when the token, height, range or
// colouring changes; otherwise only the shapes over them move. commit(xy) is
// called with [x, y] on a click or release, or [x, y, i] on test point i.
function drawMap(parentElement, model, data, commit) {
  const root = ensureRoot(parentElement, data);
  root.__state = {
    model, z: data.z, u: data.u, v: data.v, marker: data.marker, range: data.range,
    titles: data.axis_titles.map((t) => t.split(" ")[0]),
    colourBy: data.colour_by ?? -1,
    commit,
    layoutData: data,
    link: data.link || null,
  };
  const mapDiv = root.querySelector(".vae-map");
  const colourBy = data.colour_by ?? -1;
  const key = `${data.token}|${data.height}|${data.range}|${colourBy}`;
  if (root.dataset.key !== key) {
    const kind = webglAvailable() ? "scattergl" : "scatter";
    const index = [];
    const size = mapSize(root, data, legendNames(model, colourBy));
    mapDiv.style.width = `${size.width}px`;
    mapDiv.style.minHeight = "";
    Plotly.react(mapDiv, traces(model, kind, index, colourBy), layout(data, size), {
      displayModeBar: false,
    });
    root.__traceIndex = index;
    root.dataset.key = key;
    root.dataset.kind = kind;
    root.dataset.shapes = "";
    root.__ring = null; // the new drawing has no ring
    root.dataset.linked = "";
    if (data.link) attachLink(root);
  }
  const next = shapes(data);
  const text = JSON.stringify(next);
  if (root.dataset.shapes !== text) {
    root.__baseShapes = next;
    if (root.dataset.shapes) {
      // Move the marker after this render's other components (the selected
      // digit) have drawn: a relayout takes tens of ms on the main thread.
      root.__shapes = next;
      setTimeout(() => {
        if (root.__shapes === next) Plotly.relayout(mapDiv, { shapes: withRing(root) });
      }, 0);
    }
    root.dataset.shapes = text;
  }
  root.dataset.z = data.z.map((v) => v.toFixed(3)).join(",");
  // After a click the pointer is still on the map: its preview decodes the
  // same map point around the new z, instead of going blank until it moves.
  if (root.__hover && root.__show) root.__show(root.__hover);
  else showIdle(root);
  return root;
}
