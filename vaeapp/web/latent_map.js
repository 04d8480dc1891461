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

// Shared with the page's other components (window.__vaeappFetches, see
// decoder_file.js): the decoder's file is downloaded once per page.
function fetchBuffer(url) {
  const key = new URL(url, document.baseURI).href;
  const shared = (window.__vaeappFetches = window.__vaeappFetches || {});
  if (!shared[key]) {
    shared[key] = fetch(key).then((reply) => {
      if (!reply.ok) throw new Error(`${url}: HTTP ${reply.status}`);
      return reply.arrayBuffer();
    });
    shared[key].catch(() => { delete shared[key]; });
  }
  return shared[key];
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

function render(component, data) {
  const model = G.models[data.token];
  drawMap(component.parentElement, model, data,
          (xy) => component.setTriggerValue("commit", xy));
  model.loadDecoder(); // after the map: the points and Plotly came first
}

export default function (component) {
  const data = component.data[0]; // sent as a one-item list: see explorer.py
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
  ensureRoot(parent, data);
  if (window.Plotly && model.points) {
    render(component, data);
    return;
  }
  // Plotly's loader (vaeapp/ui/plotly_loader.py) has not run yet, or the
  // points are still on their way: draw the latest render once both are here.
  Promise.all([plotlyReady(), model.pointsReady]).then(() => {
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
