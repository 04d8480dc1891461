// Latent explorer, the Streamlit component: the WebGL map of scatter_map.js
// (regl-scatterplot) fed by Python. A click or release commits z to Python
// through the "commit" trigger; a lasso or box, a search and a request for
// held-out images go through "select", "search" and "chunk". Heavy data (the
// decoder's weights, the map's points) arrives once per session, keyed by
// the model's token: as URLs of binary files the browser fetches and caches
// (vaeapp/ui/static_files.py), or inline as base64 without static serving.
// The map is drawn as soon as regl-scatterplot and the points are there; the
// decoder's file is fetched after that, and the live preview starts when it
// has arrived. Later renders carry only z. regl-scatterplot itself comes from
// a loader component of its own (vaeapp/ui/map_loader.py). This file follows
// decoder.js, decoder_file.js, map_common.js and scatter_map.js in one module
// (explorer_script.MODULE_JS) and uses their functions and G.

// fetchBytes (decoder_file.js) shares each download with the page's other
// components (window.__vaeappFetches): the decoder's file comes once per page.

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
  model.pointsReady = fetchBytes(assets.files.points).then((buffer) => {
    model.points = new Float32Array(buffer, ...assets.points);
    model.labels = new Uint8Array(buffer, ...assets.labels);
    if (assets.factors) model.factors = new Float32Array(buffer, ...assets.factors);
    for (const [k, at] of Object.entries(assets.figures || {})) {
      model.figures[k] = new Float32Array(buffer, ...at);
    }
    if (assets.anchor_means) model.anchorMeans = new Float32Array(buffer, ...assets.anchor_means);
    if (assets.anchor_rows) model.anchorRows = new Uint32Array(buffer, ...assets.anchor_rows);
  });
  model.pointsReady.catch(() => lost(token, model));
  let started = false;
  model.loadDecoder = () => {
    if (started) return;
    started = true;
    fetchBytes(assets.files.decoder).then((buffer) => {
      model.layers = unpackDecoder(assets.layers, buffer);
      for (const root of document.querySelectorAll(".vae-explorer")) {
        if (root.__state && root.__state.model === model) showIdle(root);
      }
    }).catch(() => lost(token, model));
  };
  return model;
}

// regl-scatterplot's bundle, evaluated by the loader component
// (vaeapp/ui/map_loader.py), which may run after this script: resolves once
// window.createScatterplot is there.
function scatterReady() {
  if (!G.scatter) {
    G.scatter = window.createScatterplot ? Promise.resolve() : new Promise((resolve) => {
      window.addEventListener("vaeapp-scatterplot", resolve, { once: true });
    });
  }
  return G.scatter;
}

// The held-out image i as pixels in [0, 1], from its chunk of
// data.chunk_size images: fetched once (the browser caches the file, named
// by its content), asked of Python first when its URL has not come yet.
function realImage(component, token, i) {
  const data = component.parentElement.__latest, size = data.chunk_size;
  const count = data.image_count ?? data.chunk_count * size;
  if (!data.chunk_count || !(i >= 0 && i < count)) return null;
  const k = Math.floor(i / size), chunks = (G.chunks[token] = G.chunks[token] || {});
  if (!chunks[k]) {
    const url = data.chunks && data.chunks[String(k)];
    if (url) chunks[k] = fetchBytes(url).then((b) => new Uint8Array(b));
    else {
      chunks[k] = new Promise((resolve) => { (G.waiting[token] ||= {})[k] = resolve; })
        .then((url) => fetchBytes(url)).then((b) => new Uint8Array(b));
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
  deliverChunks(data);
  drawScatterMap(component.parentElement, model, data, {
    commit: (xy) => component.setTriggerValue("commit", xy),
    select: (s) => component.setTriggerValue("select", s),
    search: (text) => component.setTriggerValue("search", text),
    realImage: (i) => realImage(component, data.token, i),
  });
  model.loadDecoder(); // after the map: the points and the library came first
}

G.chunks = G.chunks || {};
G.waiting = G.waiting || {};

export default function (component) {
  const data = component.data[0]; // sent as a one-item list: see latent_map.py
  G.trigger = component.setTriggerValue;
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
  ensureRootBare(parent, data);
  if (window.createScatterplot && model.points) {
    render(component, data);
    return;
  }
  // The library's loader has not run yet, or the points are still on their
  // way: draw the latest render once both are here.
  Promise.all([scatterReady(), model.pointsReady]).then(() => {
    if (parent.__latest === data && G.models[data.token] === model) render(component, data);
  }, () => {});
}
