// The VAE's decoder in the browser: z -> the image's h * w * c values (784
// grey ones for MNIST), for live previews, and toImageData to draw them grey
// or in colour. A plain script with no imports: it defines fromB64,
// packedArray, halfToFloat, unpackDecoder, decode, decodeBatch, toImageData,
// putPixels and countNonFinite (with their helpers) at the top level.
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

// Images decoded together, through every layer, before the next ones start:
// their activations stay in the cache, and the decode of a whole grid
// allocates nothing after the first.
const DECODE_CHUNK = 32;
// Columns of a dense kernel multiplied as one block over a chunk's rows: a
// (n_in, DENSE_COLUMNS) slice of the kernel stays in the cache while every
// row uses it.
const DENSE_COLUMNS = 256;

// The layer's buffer called name, holding at least size values (grown, never
// shrunk, so that repeated decodes allocate nothing).
function scratch(layer, name, size, Type = Float32Array) {
  if (!layer[name] || layer[name].length < size) layer[name] = new Type(size);
  return layer[name];
}

// out[r] = bias + x[r] @ w for rows r of x (rows, k), w (k, n) row-major,
// out (rows, n): a matrix product that skips zero inputs (ReLU makes about
// half of them) and adds four kernel rows per pass over an output row, in
// blocks of DENSE_COLUMNS columns. nz (rows * k) and counts (rows) are
// scratch for each row's nonzero input indices.
function matmulBias(x, rows, k, w, n, bias, out, nz, counts) {
  for (let r = 0; r < rows; r++) {
    const xo = r * k, no = r * k;
    let m = 0;
    for (let i = 0; i < k; i++) if (x[xo + i] !== 0) nz[no + m++] = i;
    counts[r] = m;
  }
  for (let j0 = 0; j0 < n; j0 += DENSE_COLUMNS) {
    const j1 = Math.min(n, j0 + DENSE_COLUMNS);
    for (let r = 0; r < rows; r++) {
      const xo = r * k, no = r * k, oo = r * n, m = counts[r];
      for (let j = j0; j < j1; j++) out[oo + j] = bias[j];
      let t = 0;
      for (; t + 4 <= m; t += 4) {
        const i0 = nz[no + t], i1 = nz[no + t + 1], i2 = nz[no + t + 2], i3 = nz[no + t + 3];
        const a0 = x[xo + i0], a1 = x[xo + i1], a2 = x[xo + i2], a3 = x[xo + i3];
        const w0 = i0 * n, w1 = i1 * n, w2 = i2 * n, w3 = i3 * n;
        for (let j = j0; j < j1; j++) {
          out[oo + j] += a0 * w[w0 + j] + a1 * w[w1 + j] + a2 * w[w2 + j] + a3 * w[w3 + j];
        }
      }
      for (; t < m; t++) {
        const i0 = nz[no + t], a0 = x[xo + i0], w0 = i0 * n;
        for (let j = j0; j < j1; j++) out[oo + j] += a0 * w[w0 + j];
      }
    }
  }
}

// (rows, n_in) -> (rows, n_out) into the layer's own buffer.
function denseForward(layer, x, rows) {
  const { nIn, nOut } = layer;
  const out = scratch(layer, "out", rows * nOut);
  const nz = scratch(layer, "nz", rows * nIn, Int32Array);
  const counts = scratch(layer, "counts", rows, Int32Array);
  matmulBias(x, rows, nIn, layer.w, nOut, layer.b, out, nz, counts);
  return out;
}

// (rows, h * w * c_in) -> (rows, h_out * w_out * c_out) into the layer's own
// buffer, an image at a time: the input pixels (h * w, c_in) times the kernel
// (c_in, k * k * c_out) give every pixel's k x k taps (one matrix product),
// which are then added into the output pixels they reach (col2im).
function convTransposeForward(layer, x, rows) {
  const [h, wIn, cIn] = layer.inShape, [oh, ow, cOut] = layer.outShape;
  const { k, stride, w, b, nIn, nOut } = layer, [top, left] = layer.pad;
  const taps = k * k * cOut, pixels = h * wIn;
  const out = scratch(layer, "out", rows * nOut);
  const cols = scratch(layer, "cols", pixels * taps);
  const nz = scratch(layer, "nz", pixels * cIn, Int32Array);
  const counts = scratch(layer, "counts", pixels, Int32Array);
  const zero = scratch(layer, "zero", taps);
  for (let r = 0; r < rows; r++) {
    matmulBias(x.subarray(r * nIn, (r + 1) * nIn), pixels, cIn, w, taps, zero, cols, nz, counts);
    const o = r * nOut;
    for (let p = 0; p < oh * ow; p++) out.set(b, o + p * cOut);
    for (let y = 0; y < h; y++) {
      for (let x0 = 0; x0 < wIn; x0++) {
        const cb = (y * wIn + x0) * taps;
        for (let a = 0; a < k; a++) {
          const oy = y * stride + a - top;
          if (oy < 0 || oy >= oh) continue;
          for (let bb = 0; bb < k; bb++) {
            const ox = x0 * stride + bb - left;
            if (ox < 0 || ox >= ow) continue;
            const ob = o + (oy * ow + ox) * cOut, tb = cb + (a * k + bb) * cOut;
            for (let c = 0; c < cOut; c++) out[ob + c] += cols[tb + c];
          }
        }
      }
    }
  }
  return out;
}

function activate(out, size, activation) {
  if (activation === "sigmoid") {
    for (let j = 0; j < size; j++) out[j] = 1 / (1 + Math.exp(-out[j]));
  } else {
    for (let j = 0; j < size; j++) if (out[j] < 0) out[j] = 0;
  }
}

// zs (n arrays of latent_dim numbers) -> one Float32Array of n images'
// h * w * c values in [0, 1] each, image i at i * h * w * c (channels-last);
// the same values as n calls of decode. model.layers is unpackDecoder's
// result; the layers keep their buffers between calls, so decode calls must
// not overlap (JavaScript runs them one at a time anyway).
function decodeBatch(model, zs) {
  const layers = model.layers, nIn = layers[0].nIn;
  const nOut = layers[layers.length - 1].nOut;
  const result = new Float32Array(zs.length * nOut);
  const first = scratch(model, "zBuffer", DECODE_CHUNK * nIn);
  for (let start = 0; start < zs.length; start += DECODE_CHUNK) {
    const rows = Math.min(DECODE_CHUNK, zs.length - start);
    for (let r = 0; r < rows; r++) {
      const z = zs[start + r];
      if (z.length !== nIn) {
        throw new Error(`decode: z has ${z.length} values, the decoder takes ${nIn}`);
      }
      for (let d = 0; d < nIn; d++) first[r * nIn + d] = z[d];
    }
    let h = first;
    for (const layer of layers) {
      if (layer.kind === "reshape") continue;
      h = layer.kind === "dense" ? denseForward(layer, h, rows)
        : convTransposeForward(layer, h, rows);
      activate(h, rows * layer.nOut, layer.activation);
    }
    result.set(h.subarray(0, rows * nOut), start * nOut);
  }
  return result;
}

// z (array of latent_dim numbers) -> a new Float32Array of the image's
// h * w * c values in [0, 1], channels-last (784 grey values for MNIST; draw
// them with toImageData): decodeBatch of the one z.
function decode(model, z) {
  return decodeBatch(model, [z]);
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
  putPixels(pixels, 0, shape, out, 0, 0);
  return out;
}

// One image's decoded values, pixels[start .. start + h * w * c), drawn as
// toImageData draws them into the h x w rectangle of image (an ImageData)
// whose top left corner is (left, top): a cell of a grid of images.
function putPixels(pixels, start, shape, image, left, top) {
  const [h, w, c] = shape, data = image.data;
  for (let y = 0; y < h; y++) {
    let j = ((top + y) * image.width + left) * 4, k = start + y * w * c;
    if (c === 1) {
      for (let x = 0; x < w; x++, j += 4, k++) {
        const v = 255 * pixels[k];
        data[j] = v; data[j + 1] = v; data[j + 2] = v; data[j + 3] = 255;
      }
    } else {
      for (let x = 0; x < w; x++, j += 4, k += 3) {
        data[j] = 255 * pixels[k]; data[j + 1] = 255 * pixels[k + 1];
        data[j + 2] = 255 * pixels[k + 2]; data[j + 3] = 255;
      }
    }
  }
}

// How many of the decoded values are NaN or infinite (toImageData draws NaN
// black and infinities as 0 or 255).
function countNonFinite(pixels) {
  let bad = 0;
  for (let i = 0; i < pixels.length; i++) if (!Number.isFinite(pixels[i])) bad++;
  return bad;
}
