// Latent explorer, the Streamlit component: the map of map_plot.js fed by
// Python. A click or release commits z to Python through the "commit" trigger.
// Heavy data (the decoder's weights, 10,000 points) arrives once per session,
// keyed by the model's token: as URLs of binary files the browser fetches and
// caches (vaeapp/ui/static_files.py), or inline as base64 without static
// serving. The map is drawn as soon as Plotly and the points are there; the
// decoder's file is fetched after that, and the live preview starts when it
// has arrived. Later renders carry only z. Plotly itself comes from a loader
// component of its own (vaeapp/ui/plotly_loader.py). This file follows
// decoder.js and map_plot.js in one module (explorer_script.MODULE_JS) and
// uses their functions and G.

function fetchBuffer(url) {
  return fetch(new URL(url, document.baseURI)).then((reply) => {
    if (!reply.ok) throw new Error(`${url}: HTTP ${reply.status}`);
    return reply.arrayBuffer();
  });
}

// The page lost a model's files (or they failed to load): forget the model
// and ask Python to send its assets again.
function lost(token, model) {
  if (G.models[token] !== model) return;
  delete G.models[token];
  if (G.trigger) G.trigger("missing", token);
}

// The model the browser works with: emptyModel's fields, with pointsReady (a
// promise) and loadDecoder() (starts the decoder's download once); layers
// stay null until the decoder has arrived. Inline assets are all there at once.
function load(token, assets) {
  if (!assets.files) {
    const model = inlineModel(assets);
    model.pointsReady = Promise.resolve();
    model.loadDecoder = () => {};
    return model;
  }
  const model = emptyModel(assets);
  model.pointsReady = fetchBuffer(assets.files.points).then((buffer) => {
    model.points = new Float32Array(buffer, ...assets.points);
    model.labels = new Uint8Array(buffer, ...assets.labels);
    if (assets.factors) model.factors = new Float32Array(buffer, ...assets.factors);
    for (const [k, at] of Object.entries(assets.figures || {})) {
      model.figures[k] = new Float32Array(buffer, ...at);
    }
  });
  model.pointsReady.catch(() => lost(token, model));
  let started = false;
  model.loadDecoder = () => {
    if (started) return;
    started = true;
    fetchBuffer(assets.files.decoder).then((buffer) => {
      model.layers = unpackDecoder(assets.layers, buffer);
      for (const root of document.querySelectorAll(".vae-explorer")) {
        if (root.__state && root.__state.model === model) showIdle(root);
      }
    }).catch(() => lost(token, model));
  };
  return model;
}

function plotlyReady() {
  if (!G.plotly) {
    G.plotly = window.Plotly ? Promise.resolve() : new Promise((resolve) => {
      window.addEventListener("vaeapp-plotly", resolve, { once: true });
    });
  }
  return G.plotly;
}

// regl-scatterplot's bundle for the WebGL map, run once from the URL or
// text Python sent with the model's assets (data.scatter_lib).
function scatterReady(sent) {
  if (window.createScatterplot) return Promise.resolve();
  if (!G.scatter && sent) {
    G.scatter = new Promise((resolve, reject) => {
      const script = document.createElement("script");
      if (sent.url) {
        script.src = new URL(sent.url, document.baseURI).href;
        script.onload = resolve;
        script.onerror = () => { G.scatter = null; reject(new Error("scatterplot")); };
      } else script.textContent = sent.src;
      document.head.appendChild(script);
      if (!sent.url) resolve();
    });
  }
  return G.scatter || Promise.reject(new Error("no scatterplot bundle"));
}

// The held-out image i as pixels in [0, 1], from its chunk of
// data.chunk_size images: fetched once (the browser caches the file, named
// by its content), asked of Python first when its URL has not come yet.
function realImage(component, token, i) {
  const data = component.parentElement.__latest, size = data.chunk_size;
  if (!data.chunk_count || !(i >= 0 && i < data.chunk_count * size)) return null;
  const k = Math.floor(i / size), chunks = (G.chunks[token] = G.chunks[token] || {});
  if (!chunks[k]) {
    const url = data.chunks && data.chunks[String(k)];
    if (url) chunks[k] = fetchBuffer(url).then((b) => new Uint8Array(b));
    else {
      chunks[k] = new Promise((resolve) => { (G.waiting[token] ||= {})[k] = resolve; })
        .then((url) => fetchBuffer(url)).then((b) => new Uint8Array(b));
      component.setTriggerValue("chunk", k);
    }
    chunks[k].catch(() => { delete chunks[k]; });
  }
  const model = G.models[token], n = model.shape[0] * model.shape[1] * model.shape[2];
  return chunks[k].then((bytes) => {
    const row = bytes.subarray((i - k * size) * n, (i - k * size + 1) * n);
    return Float32Array.from(row, (v) => v / 255);
  });
}

// Chunk URLs that arrived for chunks a hover is waiting on.
function deliverChunks(data) {
  const waiting = G.waiting[data.token] || {};
  for (const [k, url] of Object.entries(data.chunks || {})) {
    if (waiting[k]) {
      waiting[k](url);
      delete waiting[k];
    }
  }
}

function render(component, data) {
  const model = G.models[data.token];
  const commit = (xy) => component.setTriggerValue("commit", xy);
  if (data.renderer === "webgl") {
    deliverChunks(data);
    drawScatterMap(component.parentElement, model, data, {
      commit,
      select: (s) => component.setTriggerValue("select", s),
      search: (text) => component.setTriggerValue("search", text),
      realImage: (i) => realImage(component, data.token, i),
    });
  } else drawMap(component.parentElement, model, data, commit);
  model.loadDecoder(); // after the map: the points and Plotly came first
}

G.chunks = G.chunks || {};
G.waiting = G.waiting || {};

export default function (component) {
  const data = component.data[0]; // sent as a one-item list: see explorer.py
  G.trigger = component.setTriggerValue;
  if (data.scatter_lib) G.scatterLib = data.scatter_lib;
  if (data.assets) G.models[data.token] = load(data.token, data.assets);
  const model = G.models[data.token];
  if (!model) {
    component.setTriggerValue("missing", data.token);
    return;
  }
  // The latest render of this map (a page may hold several: the explorer and
  // the compare view's two), which the wait below draws.
  const parent = component.parentElement;
  parent.__latest = data;
  const webgl = data.renderer === "webgl";
  if (webgl) ensureRootBare(parent, data);
  else ensureRoot(parent, data);
  const libraryThere = webgl ? !!window.createScatterplot : !!window.Plotly;
  if (libraryThere && model.points) {
    render(component, data);
    return;
  }
  // Plotly's loader (vaeapp/ui/plotly_loader.py) has not run yet, or the
  // points are still on their way: draw the latest render once both are here.
  const library = webgl ? scatterReady(G.scatterLib) : plotlyReady();
  Promise.all([library, model.pointsReady]).then(() => {
    if (parent.__latest === data && G.models[data.token] === model) render(component, data);
  }, () => {});
}


// The z sliders moved z in the browser (vaeapp/web/z_sliders.js): the
// explorer's map moves its marker there, one relayout per frame at most, and
// its preview decodes around the new z. (The compare view's maps, linked,
// mark a test image, not z.)
function followSliders(root, z) {
  const st = root.__state;
  if (!st || st.link || !st.layoutData || z.length !== st.z.length) return;
  const d = z.map((v, i) => v - st.z[i]);
  const along = (axis) => axis.reduce((sum, a, i) => sum + a * d[i], 0);
  const marker = [st.marker[0] + along(st.u), st.marker[1] + along(st.v)];
  st.layoutData = { ...st.layoutData, z: z.slice(), marker };
  Object.assign(st, { z: z.slice(), marker });
  const next = shapes(st.layoutData);
  root.__baseShapes = next;
  root.__shapes = next;
  root.dataset.shapes = JSON.stringify(next);
  root.dataset.z = z.map((v) => v.toFixed(3)).join(",");
  if (root.__markerFrame) return;
  root.__markerFrame = requestAnimationFrame(() => {
    root.__markerFrame = 0;
    if (window.Plotly) Plotly.relayout(root.querySelector(".vae-map"), { shapes: withRing(root) });
  });
}

window.addEventListener("vaeapp-z", (event) => {
  const { z, source } = event.detail || {};
  if (source !== "sliders" || !Array.isArray(z)) return;
  for (const root of document.querySelectorAll(".vae-explorer")) followSliders(root, z);
});
