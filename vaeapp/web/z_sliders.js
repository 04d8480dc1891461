// The z sliders and the selected image, as a Streamlit component
// (vaeapp/ui/components/z_sliders.py). A move of a slider (a drag, or an
// arrow key on a focused one) decodes z in the browser and draws the image in
// the same frame; the server is told z only when the moves settle: when the
// pointer that drags a slider is released, or SETTLE_MS after the last key
// press (or other move) with no pointer down. Each move also dispatches a "vaeapp-z" event on window
// ({z, source: "sliders"}) for the map's marker; a "vaeapp-z" event from the
// map ({z, source: "map"}) moves the sliders and the image, and tells the
// server nothing (the map tells it itself).
//
// Until the decoder's file has arrived, and for a model this browser decodes
// slower than SLOW_MS, the image is the server's: the PNG the render carries
// (src). Slow decoding is measured on the first decodes and said on the page.
// This file follows decoder.js and decoder_file.js in one module
// (ui/components/z_sliders.py) and uses their functions.

const SETTLE_MS = 250; // a move this long after the last one is sent
const SLOW_MS = 30; // a median decode slower than this leaves drawing to the server
const TIMED_DECODES = 5; // decodes timed before deciding
const SAME = 1e-6; // z values closer than this are the same point

const Z = { models: {} }; // model token -> { layers, shape, ready, slow, times }

// The decoder of one model (decoder_file.js); a failed download asks the
// server to send the model again.
function loadModel(token, assets, component) {
  const model = loadDecoder(assets);
  model.ready.catch(() => {
    if (Z.models[token] === model) delete Z.models[token];
    component.setTriggerValue("missing", token);
  });
  return model;
}

function sameZ(a, b) {
  return !!a && !!b && a.length === b.length && a.every((v, i) => Math.abs(v - b[i]) < SAME);
}

function zText(z) {
  return z.map((v) => v.toFixed(4)).join(",");
}

function label(i) {
  return `z${i + 1}`;
}

function sliderRow(root, i, data) {
  const row = document.createElement("div");
  row.className = "vae-z-slider";
  const name = document.createElement("label");
  const id = `vae-z-${root.__uid}-${i}`;
  name.htmlFor = id;
  name.textContent = label(i);
  const value = document.createElement("output");
  value.htmlFor = id;
  const input = document.createElement("input");
  Object.assign(input, { type: "range", id, min: -data.limit, max: data.limit, step: data.step });
  input.setAttribute("aria-label", label(i));
  input.addEventListener("input", () => moved(root, i, Number(input.value)));
  // A drag ends with the pointer's release, wherever it is then.
  input.addEventListener("pointerdown", () => {
    root.__dragging = true;
    window.addEventListener("pointerup", () => released(root), { once: true });
    window.addEventListener("pointercancel", () => released(root), { once: true });
  });
  row.append(name, value, input);
  return row;
}

// The elements, built on the first render and again for a new number of
// dimensions or a new range.
function build(parent, data) {
  const old = parent.querySelector(".vae-z-sliders");
  if (old) clearTimeout(old.__timer); // a move of the old sliders is not sent
  // Only the old root: Streamlit keeps the component's <style> (its CSS, with
  // isolate_styles off) in the same parent element.
  parent.querySelector(":scope > .vae-z-sliders")?.remove();
  const root = document.createElement("div");
  root.className = "vae-z-sliders";
  root.__uid = Math.random().toString(36).slice(2, 8);
  const figure = document.createElement("figure");
  figure.className = "vae-digit-figure";
  const canvas = document.createElement("canvas");
  canvas.className = "vae-digit";
  canvas.dataset.testid = "vae-digit";
  const caption = document.createElement("figcaption");
  figure.append(canvas, caption);
  const note = document.createElement("p");
  note.className = "vae-z-note";
  const text = document.createElement("p");
  text.className = "vae-z-text";
  root.append(figure, text, note);
  const n = data.z.length, shown = Math.min(n, data.shown);
  root.__inputs = [];
  for (let i = 0; i < shown; i++) root.append(sliderRow(root, i, data));
  if (n > shown) {
    const more = document.createElement("details");
    const summary = document.createElement("summary");
    summary.textContent = n === shown + 1 ? `Dimension ${n}` : `Dimensions ${shown + 1} to ${n}`;
    more.append(summary);
    for (let i = shown; i < n; i++) more.append(sliderRow(root, i, data));
    root.append(more);
  }
  root.__inputs = [...root.querySelectorAll("input[type=range]")];
  root.__key = `${n}|${data.limit}|${data.step}`;
  root.dataset.decodes = "0";
  root.dataset.commits = "0";
  parent.append(root);
  return root;
}

// Show z in the sliders' values and the line of coordinates.
function showValues(root) {
  const z = root.__z;
  root.__inputs.forEach((input, i) => {
    if (Number(input.value) !== z[i]) input.value = z[i];
    input.parentElement.querySelector("output").textContent = z[i].toFixed(2);
  });
  root.querySelector(".vae-z-text").textContent =
    z.map((v, i) => `${label(i)} = ${v >= 0 ? "+" : ""}${v.toFixed(2)}`).join(" ");
}

function browserDraws(model) {
  return !!model && !!model.layers && !model.slow;
}

// Decode root.__z and draw it; returns false where the browser does not draw.
function drawDecoded(root) {
  const model = Z.models[root.__data.token];
  if (!browserDraws(model)) return false;
  const start = performance.now();
  const pixels = decode(model, root.__z);
  const [h, w] = model.shape;
  const canvas = root.querySelector("canvas.vae-digit");
  if (canvas.width !== w || canvas.height !== h) Object.assign(canvas, { width: w, height: h });
  root.__image = toImageData(pixels, model.shape, root.__image);
  canvas.getContext("2d").putImageData(root.__image, 0, 0);
  canvas.dataset.z = zText(root.__z);
  canvas.dataset.by = "browser";
  root.dataset.decodes = String(Number(root.dataset.decodes) + 1);
  if (model.times.length < TIMED_DECODES) {
    model.times.push(performance.now() - start);
    if (model.times.length === TIMED_DECODES) {
      const median = [...model.times].sort((a, b) => a - b)[TIMED_DECODES >> 1];
      model.slow = median > SLOW_MS;
      if (model.slow) showNote(root, median);
    }
  }
  return true;
}

function showNote(root, median) {
  const note = root.querySelector(".vae-z-note");
  const model = Z.models[root.__data.token];
  note.textContent = model && model.slow
    ? `This model takes ${Math.round(median ?? model.times[TIMED_DECODES >> 1])} ms ` +
      "to decode in this browser: the server draws the image when a slider stops."
    : "";
}

// The server's picture (data.src, a PNG data URL) on the canvas.
function drawServer(root) {
  const data = root.__data;
  const canvas = root.querySelector("canvas.vae-digit");
  const image = new Image();
  image.onload = () => {
    // Not over a newer render's picture, nor over the browser's own decode
    // (the decoder may have arrived while the PNG was loading).
    if (root.__data !== data || browserDraws(Z.models[data.token])) return;
    Object.assign(canvas, { width: image.naturalWidth, height: image.naturalHeight });
    canvas.getContext("2d").drawImage(image, 0, 0);
    canvas.dataset.z = zText(data.z);
    canvas.dataset.by = "server";
  };
  image.src = data.src;
}

function draw(root) {
  showValues(root);
  if (!drawDecoded(root) && sameZ(root.__z, root.__data.z)) drawServer(root);
}

function commit(root) {
  clearTimeout(root.__timer);
  root.__timer = 0;
  // The z's sent and not yet seen back: their renders are echoes (kept few).
  root.__commits = [...(root.__commits || []).slice(-7), root.__z.slice()];
  root.dataset.commits = String(Number(root.dataset.commits) + 1);
  root.__component.setTriggerValue("z", root.__z.slice());
}

function released(root) {
  if (!root.__dragging) return;
  root.__dragging = false;
  if (root.__timer) commit(root);
}

// A slider moved: draw at once, tell the map, tell the server when settled.
function moved(root, i, value) {
  root.__z = root.__z.slice();
  root.__z[i] = value;
  draw(root);
  window.dispatchEvent(new CustomEvent("vaeapp-z", {
    detail: { z: root.__z.slice(), source: "sliders" },
  }));
  clearTimeout(root.__timer);
  // Pending until the drag's release, or until the keys have settled.
  root.__timer = setTimeout(() => {
    if (!root.__dragging) commit(root);
  }, SETTLE_MS);
}

// The map moved z in the browser: follow it (the map tells the server).
window.addEventListener("vaeapp-z", (event) => {
  const { z, source } = event.detail || {};
  if (source !== "map" || !Array.isArray(z)) return;
  for (const root of document.querySelectorAll(".vae-z-sliders")) {
    if (root.__z && z.length === root.__z.length && z.every(Number.isFinite)) {
      root.__z = z.slice();
      draw(root);
    }
  }
});

// data: token, z, limit, step, shown (sliders outside the "more" box), src
// (the server's PNG of z), size (px), caption, and once per model assets
// ({layers, image_shape} with file: the decoder's URL, or inline layers).
export default function (component) {
  const data = component.data[0]; // sent as a one-item list, as the map's
  const { parentElement } = component;
  if (data.assets) Z.models[data.token] = loadModel(data.token, data.assets, component);
  let root = parentElement.querySelector(".vae-z-sliders");
  if (!root || root.__key !== `${data.z.length}|${data.limit}|${data.step}`) {
    root = build(parentElement, data);
  }
  const before = root.__data;
  if (before && before.token !== data.token) {
    clearTimeout(root.__timer); // a move of the old model's z is not sent
    root.__timer = 0;
  }
  root.__component = component;
  root.__data = data;
  const canvas = root.querySelector("canvas.vae-digit");
  canvas.style.maxWidth = `${data.size}px`;
  canvas.setAttribute("aria-label", data.caption);
  root.querySelector("figcaption").textContent = data.caption;
  // z from the server: a move made elsewhere (map, grid, a tool, a new model)
  // is taken, and cancels a key press not yet sent (the other move came
  // later); the echo of a z these sliders sent is not (the person may have
  // moved on since), nor anything while a drag goes on (sent on release).
  const fresh = !before || !sameZ(data.z, before.z) || before.token !== data.token;
  const commits = root.__commits || [];
  const echo = commits.findIndex((z) => sameZ(z, data.z));
  if (echo >= 0) root.__commits = commits.slice(echo + 1);
  if (!root.__z || (fresh && echo < 0 && !root.__dragging)) {
    clearTimeout(root.__timer);
    root.__timer = 0;
    root.__z = data.z.slice();
  }
  const model = Z.models[data.token];
  if (!model) {
    component.setTriggerValue("missing", data.token);
  } else if (!model.layers) {
    model.ready.then(() => {
      if (root.__data.token === data.token) draw(root);
    }, () => {});
  }
  showNote(root);
  draw(root);
}
