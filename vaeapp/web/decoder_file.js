// A model's decoder for a component of the page: fetched from its static file
// (the same URL for every component that draws with it, so the browser
// downloads it once) or unpacked from inline layers. Follows decoder.js in
// the components' modules (z_sliders.js, grid_picture.js).

// One download per URL for the whole page: components that start at once
// would each download the file while the HTTP cache does not have it yet (a
// cold first page fetched the decoder three times). Kept on window, as
// window.__vaeappFetches (URL -> promise of an ArrayBuffer), so that every
// module of the page can share it; a failed download is forgotten.
function fetchBytes(url) {
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

// assets: {layers, image_shape} with file (the decoder's URL), or inline
// layers. Returns {layers (null until loaded), shape, ready (a promise),
// slow, times}; slow and times are for the callers' speed checks.
function loadDecoder(assets) {
  const model = { layers: null, shape: assets.image_shape, slow: false, times: [] };
  if (!assets.file) {
    model.layers = unpackDecoder(assets.layers, null);
    model.ready = Promise.resolve(model);
    return model;
  }
  model.ready = fetchBytes(assets.file).then((buffer) => {
    model.layers = unpackDecoder(assets.layers, buffer);
    return model;
  });
  return model;
}
