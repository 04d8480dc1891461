// The VAE's decoder in the browser: z -> the image's h * w * c values (784
// grey ones for MNIST), for live previews, and toImageData to draw them grey
// or in colour. A plain script with no imports: it defines fromB64,
// packedArray, halfToFloat, unpackDecoder, decode, toImageData and
// countNonFinite at the top level.
//
// The layers arrive as vaeapp.web.assets.pack_decoder writes them: each has
// a "kind"; those with weights carry n_in, n_out, w16 (the kernel, float16),
// b (the bias, float32) and an activation ("relu", or
// "sigmoid" on the last, giving pixel means). Values flow as flat
// Float32Arrays; a feature map (h, w, c) is channels-last, row-major. w16 and b
// are base64 text, or [byte offset, count] into the ArrayBuffer of the
// decoder's binary file (browser_assets.pack_model_files).
//   dense:          w16 is the (n_in, n_out) kernel, row-major.
//   reshape:        shape [h, w, c]; names the map the flat values already are.
//   conv_transpose: in_shape [h, w, c_in], out_shape [h_out, w_out, c_out],
//                   kernel (side k), stride, pad [top, left] (cropped from the
//                   start of the full (h - 1) * stride + k output); w16 is the
//                   kernel as (c_in, k, k, c_out), row-major.

// Base64 text -> a typed array of Type over its bytes (little-endian). A
// plain loop over atob's output: Array.from with a mapping callback took
// ~0.1 s per megabyte on the first page.
function fromB64(text, Type) {
  if (Uint8Array.fromBase64) return new Type(Uint8Array.fromBase64(text).buffer);
  const chars = atob(text);
  const bytes = new Uint8Array(chars.length);
  for (let i = 0; i < chars.length; i++) bytes[i] = chars.charCodeAt(i);
  return new Type(bytes.buffer);
}

// A packed array as a typed array of Type: base64 text, or [byte offset,
// count] into buffer (a view on it, not a copy).
function packedArray(packed, Type, buffer) {
  if (typeof packed === "string") return fromB64(packed, Type);
  if (!buffer) throw new Error("a [offset, count] array needs the decoder's file");
  return new Type(buffer, packed[0], packed[1]);
}

// IEEE half-precision bits (Uint16Array) -> Float32Array.
function halfToFloat(bits) {
  if (typeof Float16Array !== "undefined") {
    // Native conversion where the browser has Float16Array: the same values,
    // several times faster than the loop below.
    return new Float32Array(new Float16Array(bits.buffer, bits.byteOffset, bits.length));
  }
  const out = new Float32Array(bits.length);
  for (let i = 0; i < bits.length; i++) {
    const h = bits[i], sign = h & 0x8000 ? -1 : 1;
    const exp = (h >> 10) & 0x1f, frac = h & 0x3ff;
    out[i] = exp === 0 ? sign * 2 ** -14 * (frac / 1024)
      : exp === 31 ? (frac ? NaN : sign * Infinity)
      : sign * 2 ** (exp - 15) * (1 + frac / 1024);
  }
  return out;
}

const DECODER_ACTIVATIONS = ["relu", "sigmoid"];

function product(shape) {
  return shape.reduce((a, b) => a * b, 1);
}

function unpackWeights(packed, kernelSize, index, buffer) {
  const w = halfToFloat(packedArray(packed.w16, Uint16Array, buffer));
  const b = packedArray(packed.b, Float32Array, buffer);
  const nBias = packed.kind === "dense" ? packed.n_out : packed.out_shape[2];
  if (w.length !== kernelSize || b.length !== nBias) {
    throw new Error(
      `decoder layer ${index} (${packed.kind}): kernel has ${w.length} values, ` +
      `expected ${kernelSize}; bias has ${b.length}, expected ${nBias}`);
  }
  if (!DECODER_ACTIVATIONS.includes(packed.activation)) {
    throw new Error(
      `decoder layer ${index}: activation must be one of ` +
      `${DECODER_ACTIVATIONS.join(", ")}, got ${packed.activation}`);
  }
  return { w, b, activation: packed.activation };
}

// Packed layers (pack_decoder's list) -> layers decode() runs; buffer is the
// decoder file's ArrayBuffer when the arrays are [offset, count] pairs. Throws
// an Error naming the layer when a kind is unknown, a size does not match its
// shape, or one layer's output size is not the next one's input size.
function unpackDecoder(packedLayers, buffer) {
  const layers = [];
  let size = null;
  packedLayers.forEach((p, index) => {
    let layer;
    if (p.kind === "dense") {
      layer = { kind: "dense", nIn: p.n_in, nOut: p.n_out,
                ...unpackWeights(p, p.n_in * p.n_out, index, buffer) };
    } else if (p.kind === "reshape") {
      const n = product(p.shape);
      layer = { kind: "reshape", shape: p.shape.slice(), nIn: n, nOut: n };
    } else if (p.kind === "conv_transpose") {
      const [, , cIn] = p.in_shape, cOut = p.out_shape[2], k = p.kernel;
      layer = {
        kind: "conv_transpose", nIn: product(p.in_shape), nOut: product(p.out_shape),
        inShape: p.in_shape.slice(), outShape: p.out_shape.slice(),
        k, stride: p.stride, pad: p.pad.slice(),
        ...unpackWeights(p, cIn * k * k * cOut, index, buffer),
      };
    } else {
      throw new Error(
        `decoder layer ${index}: kind must be dense, reshape or conv_transpose, ` +
        `got ${p.kind}`);
    }
    if (size !== null && layer.nIn !== size) {
      throw new Error(
        `decoder layer ${index} (${p.kind}) takes ${layer.nIn} values but the ` +
        `layer before gives ${size}`);
    }
    size = layer.nOut;
    if (layer.kind !== "reshape") layer.out = new Float32Array(layer.nOut);
    layers.push(layer);
  });
  return layers;
}

function activate(out, activation) {
  if (activation === "sigmoid") {
    for (let j = 0; j < out.length; j++) out[j] = 1 / (1 + Math.exp(-out[j]));
  } else {
    for (let j = 0; j < out.length; j++) if (out[j] < 0) out[j] = 0;
  }
}

// (n_in) -> (n_out): out = h @ w + b, skipping zero inputs (ReLU makes many).
// Writes the layer's own output buffer (made once by unpackDecoder).
function denseForward(layer, h) {
  const { nIn, nOut, w, out } = layer;
  out.set(layer.b);
  for (let i = 0; i < nIn; i++) {
    const v = h[i];
    if (v === 0) continue;
    const row = i * nOut;
    for (let j = 0; j < nOut; j++) out[j] += v * w[row + j];
  }
  return out;
}

// (h * w * c_in) -> (h_out * w_out * c_out): every nonzero input value adds
// its k x k x c_out contribution to the output pixels its taps reach. Writes
// the layer's own output buffer (made once by unpackDecoder).
function convTransposeForward(layer, x) {
  const [h, wIn, cIn] = layer.inShape, [oh, ow, cOut] = layer.outShape;
  const { k, stride, w, b, out } = layer, [top, left] = layer.pad;
  for (let p = 0; p < oh * ow; p++) out.set(b, p * cOut);
  const tapStride = k * k * cOut;
  for (let y = 0; y < h; y++) {
    for (let x0 = 0; x0 < wIn; x0++) {
      const inBase = (y * wIn + x0) * cIn;
      for (let c = 0; c < cIn; c++) {
        const v = x[inBase + c];
        if (v === 0) continue;
        const wc = c * tapStride;
        for (let a = 0; a < k; a++) {
          const oy = y * stride + a - top;
          if (oy < 0 || oy >= oh) continue;
          for (let bb = 0; bb < k; bb++) {
            const ox = x0 * stride + bb - left;
            if (ox < 0 || ox >= ow) continue;
            const ob = (oy * ow + ox) * cOut, wb = wc + (a * k + bb) * cOut;
            for (let o = 0; o < cOut; o++) out[ob + o] += v * w[wb + o];
          }
        }
      }
    }
  }
  return out;
}

// z (array of latent_dim numbers) -> a new Float32Array of the image's
// h * w * c values in [0, 1], channels-last (784 grey values for MNIST; draw
// them with toImageData); model.layers is unpackDecoder's result. The layers
// reuse their output buffers, so decode calls must not overlap (JavaScript
// runs them one at a time anyway).
function decode(model, z) {
  let h = Float32Array.from(z);
  if (h.length !== model.layers[0].nIn) {
    throw new Error(`decode: z has ${h.length} values, the decoder takes ${model.layers[0].nIn}`);
  }
  for (const layer of model.layers) {
    if (layer.kind === "reshape") continue;
    h = layer.kind === "dense" ? denseForward(layer, h) : convTransposeForward(layer, h);
    activate(h, layer.activation);
  }
  return h.slice();
}

// Decoded values (decode's Float32Array, channels-last: c values per pixel,
// pixels row by row) -> an ImageData of width w and height h for
// CanvasRenderingContext2D.putImageData. shape is [h, w, c] (the model's
// image_shape); c = 1 draws grey (r = g = b), c = 3 colour (RGB). Values are
// scaled by 255 and rounded as a Uint8ClampedArray does: clipped to 0..255,
// NaN drawn black. image, if given, is an ImageData of the same size that is
// filled and returned instead of a new one (no allocation per frame).
function toImageData(pixels, shape, image) {
  const [h, w, c] = shape;
  if (c !== 1 && c !== 3) throw new Error(`toImageData: 1 or 3 channels, got ${c}`);
  if (pixels.length !== h * w * c) {
    throw new Error(`toImageData: ${h}x${w}x${c} needs ${h * w * c} values, got ${pixels.length}`);
  }
  const out = image && image.width === w && image.height === h ? image : new ImageData(w, h);
  const data = out.data;
  const n = h * w;
  if (c === 1) {
    for (let i = 0, j = 0; i < n; i++, j += 4) {
      const v = 255 * pixels[i];
      data[j] = v; data[j + 1] = v; data[j + 2] = v; data[j + 3] = 255;
    }
  } else {
    for (let i = 0, j = 0, k = 0; i < n; i++, j += 4, k += 3) {
      data[j] = 255 * pixels[k]; data[j + 1] = 255 * pixels[k + 1];
      data[j + 2] = 255 * pixels[k + 2]; data[j + 3] = 255;
    }
  }
  return out;
}

// How many of the decoded values are NaN or infinite (toImageData draws NaN
// black and infinities as 0 or 255).
function countNonFinite(pixels) {
  let bad = 0;
  for (let i = 0; i < pixels.length; i++) if (!Number.isFinite(pixels[i])) bad++;
  return bad;
}
