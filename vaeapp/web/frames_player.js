// A path's images decoded in the browser (a Streamlit component,
// vaeapp/ui/components/frames_player.py): as a strip side by side, or as an
// animation that plays forward and back, frame_ms each, as the GIF download
// does (vaeapp/explore/traversal.py). Each frame is drawn on its own canvas
// (the strip shows them all; the animation one at a time), so the tests can
// read every frame. Follows decoder.js and decoder_file.js in one module.

const P = { models: {}, waiting: {} };
const MODEL_WAIT_MS = 3000; // another player's render may carry the decoder

// The model of token: here, or promised by a render still to come (the page
// sends the decoder once, with the first player drawn).
function modelOf(token, component) {
  if (P.models[token]) return P.models[token].ready;
  if (!P.waiting[token]) {
    let resolve;
    const promise = new Promise((done) => { resolve = done; });
    P.waiting[token] = { promise, resolve };
    setTimeout(() => {
      if (!P.models[token]) component.setTriggerValue("missing", token);
    }, MODEL_WAIT_MS);
  }
  return P.waiting[token].promise;
}

function stopPlaying(root) {
  clearInterval(root.__timer);
  root.__timer = 0;
}

function play(root, frames, frameMs) {
  stopPlaying(root);
  // Forward then back, the ends once each: 2k - 2 frames (k > 1).
  const order = frames.length > 1
    ? [...frames.keys(), ...[...frames.keys()].slice(1, -1).reverse()]
    : [0];
  let at = 0;
  const show = () => {
    frames.forEach((canvas, i) => { canvas.hidden = i !== order[at]; });
    root.dataset.frame = String(order[at]);
    at = (at + 1) % order.length;
  };
  show();
  root.dataset.playing = "true";
  if (order.length > 1) root.__timer = setInterval(show, frameMs);
}

function drawFrames(root, model, data) {
  const [h, w] = model.shape;
  const box = root.querySelector(".vae-frames");
  box.replaceChildren();
  let image = null;
  // Every frame in one batch (decoder.js's decodeBatch), as the grid does.
  const size = model.shape[0] * model.shape[1] * model.shape[2];
  const pixels = decodeBatch(model, data.points);
  const frames = data.points.map((_, i) => {
    const canvas = Object.assign(document.createElement("canvas"), { width: w, height: h });
    canvas.className = "vae-frame";
    canvas.style.width = `${data.frame_px}px`;
    image = toImageData(pixels.subarray(i * size, (i + 1) * size), model.shape, image);
    canvas.getContext("2d").putImageData(image, 0, 0);
    box.append(canvas);
    return canvas;
  });
  root.dataset.frames = String(frames.length);
  root.dataset.key = data.key;
  if (data.mode === "animation") play(root, frames, data.frame_ms);
  else stopPlaying(root);
}

// data: token, mode ("strip" or "animation"), points (the path's z's), key
// (names the points), frame_px, frame_ms, caption, once per model assets.
export default function (component) {
  const data = component.data[0];
  const { parentElement } = component;
  if (data.assets) {
    const model = loadDecoder(data.assets);
    P.models[data.token] = model;
    if (P.waiting[data.token]) model.ready.then(P.waiting[data.token].resolve, () => {});
    model.ready.catch(() => {
      if (P.models[data.token] === model) delete P.models[data.token];
      component.setTriggerValue("missing", data.token);
    });
  }
  let root = parentElement.querySelector(".vae-player");
  if (!root) {
    root = document.createElement("figure");
    root.className = "vae-player";
    const box = document.createElement("div");
    box.className = "vae-frames";
    const caption = document.createElement("figcaption");
    root.append(box, caption);
    parentElement.append(root);
  }
  root.classList.toggle("vae-strip", data.mode === "strip");
  root.querySelector("figcaption").textContent = data.caption;
  root.__data = data;
  if (root.dataset.key === data.key) return;
  modelOf(data.token, component).then((model) => {
    if (root.__data === data) drawFrames(root, model, data);
  }, () => {});
}
