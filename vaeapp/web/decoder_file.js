// A model's decoder for a component of the page: fetched from its static file
// (the same URL for every component that draws with it, so the browser
// downloads it once) or unpacked from inline layers. Follows decoder.js in
// the components' modules (z_sliders.js, grid_picture.js).

function fetchBytes(url) {
  return fetch(new URL(url, document.baseURI)).then((reply) => {
    if (!reply.ok) throw new Error(`${url}: HTTP ${reply.status}`);
    return reply.arrayBuffer();
  });
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
