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
// shape, or one layer's output size is not the next one's input size. The
// layers run on the WebAssembly kernels where this browser has them (and
// kernels is not false), else in plain JavaScript: the same values to within
// float32 rounding.
function unpackDecoder(packedLayers, buffer, kernels = true) {
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
    layers.push(layer);
  });
  if (kernels) placeInKernels(layers);
  return layers;
}

// Images decoded together, through every layer, before the next ones start:
// a dense kernel is read once for all of them, and the decode of a whole grid
// allocates nothing after the first. At most DECODE_CHUNK images, fewer where
// a layer's outputs would pass CHUNK_VALUES (conv models' large maps: a
// 32x32x32 map is 32,768 values an image).
const DECODE_CHUNK = 32;
const CHUNK_VALUES = 1 << 18;

// How many images decodeBatch runs through the layers at a time.
function chunkRows(layers) {
  const most = Math.max(...layers.map((layer) => layer.nOut));
  return Math.max(1, Math.min(DECODE_CHUNK, Math.floor(CHUNK_VALUES / most)));
}

// Columns of a dense kernel multiplied as one block over a chunk's rows: a
// (n_in, DENSE_COLUMNS) slice of the kernel stays in the cache while every
// row uses it (the plain JavaScript path).
const DENSE_COLUMNS = 256;

// The decoder's loops as WebAssembly (wasm/decoder_kernels.c), base64: with
// relaxed SIMD's fused multiply-adds, and with 128-bit SIMD only for browsers
// without relaxed SIMD. Both lines are written by
// wasm/build_decoder_kernels.sh, which builds them.
const DECODER_KERNELS_RELAXED = "AGFzbQEAAAABKQNgCn9/f39/f39/f38AYBN/f39/f39/f39/f39/f39/f39/AGACf38AAwUEAAECAgQFAXABAQEFAwEAAgYPAn8BQYCIBAt/AEGAiAQLB0gGBm1lbW9yeQIAC21hdG11bF9iaWFzAAAOY29udl90cmFuc3Bvc2UAAQRyZWx1AAIHc2lnbW9pZAADC19faGVhcF9iYXNlAwEKnj0E+R0DDn8BfQl7AkAgAUEBSA0AAkAgAkEBSA0AIAJBAnQhCiAEQQF0IQsgAkH+////B3EhDCACQQFxIQ1BACEOIAAhDwNAIAggDiACbEECdCIQaiERIAcgEGohEkEAIRNBACEUAkAgAkEBRg0AQQAhFSAPIRZBACETQQAhFANAIBEgFEECdCIXaiAWKgIAIhg4AgAgEiAXaiAVNgIAIBEgFCAYQwAAAABcaiIUQQJ0IhdqIBZBBGoqAgAiGDgCACASIBdqIAQgFWo2AgAgFCAYQwAAAABcaiEUIBZBCGohFiAVIAtqIRUgDCATQQJqIhNHDQALCwJAIA1FDQAgEiAUQQJ0IhVqIBMgBGw2AgAgESAVaiAAIBBqIBNBAnRqKgIAIhg4AgAgFCAYQwAAAABcaiEUCyAJIA5BAnRqIBQ2AgAgDyAKaiEPIA5BAWoiDiABRw0ADAILC0EAIRQCQCABQQNNDQAgAUH8////B3EiFCEWIAkhFQNAIBX9DAAAAAAAAAAAAAAAAAAAAAD9CwIAIBVBEGohFSAWQXxqIhYNAAsgFCABRg0BCyABIBRrIRYgCSAUQQJ0aiEVA0AgFUEANgIAIBVBBGohFSAWQX9qIhYNAAsLAkAgBEEBSA0AIAJBAnQhEkEAIQogAUEBSCEAA0AgBCAKayIVQSAgFUEgSBsiFSAVQQNqQQRtIhZBAnRrQQRqIRcgBiAKQQJ0IhVqIQsCQAJAAkACQAJAAkACQAJAAkAgFkF/ag4HAgMEBQYHAAELIAANByADIBVqIREgBSAVaiEMQQAhDiAIIQ8gByEQA0AgCSAOQQJ0aigCACETAkACQCAFDQD9DAAAAAAAAAAAAAAAAAAAAAAiGSEaIBkhGyAZIRwgGSEdIBkhHiAZIR8MAQsgDP0AAGAhGSAM/QAAUCEaIAz9AABAIRsgDP0AADAhHCAM/QAAICEdIAz9AAAQIR4gDP0AAAAhHwsgDyEWIBAhFAJAIBNBAUgNAANAIBb9CQIAIiAgESAUKAIAQQJ0aiIV/QAAYCAZ/YUCIRkgICAV/QAAUCAa/YUCIRogICAV/QAAQCAb/YUCIRsgICAV/QAAMCAc/YUCIRwgICAV/QAAICAd/YUCIR0gICAV/QAAECAe/YUCIR4gICAV/QAAACAf/YUCIR8gFkEEaiEWIBRBBGohFCATQX9qIhMNAAsLIAsgDiAEbEECdGoiFSAa/QsAUCAVIBv9CwBAIBUgHP0LADAgFSAd/QsAICAVIB79CwAQIBUgH/0LAAACQAJAIBdBBEcNACAVIBn9CwBgDAELIBUgGf0fADgCYCAXQQJIDQAgFSAZ/R8BOAJkIBdBAkYNACAVIBn9HwI4AmgLIA8gEmohDyAQIBJqIRAgDkEBaiIOIAFHDQAMCAsLIAANBiADIBVqIREgBSAVaiEMQQAhDiAIIQ8gByEQA0AgCSAOQQJ0aigCACETAkACQCAFDQD9DAAAAAAAAAAAAAAAAAAAAAAiGSEaIBkhGyAZIRwgGSEdIBkhHiAZIR8gGSEhDAELIAz9AABwIRkgDP0AAGAhGiAM/QAAUCEbIAz9AABAIRwgDP0AADAhHSAM/QAAICEeIAz9AAAQIR8gDP0AAAAhIQsgDyEWIBAhFAJAIBNBAUgNAANAIBb9CQIAIiAgESAUKAIAQQJ0aiIV/QAAcCAZ/YUCIRkgICAV/QAAYCAa/YUCIRogICAV/QAAUCAb/YUCIRsgICAV/QAAQCAc/YUCIRwgICAV/QAAMCAd/YUCIR0gICAV/QAAICAe/YUCIR4gICAV/QAAECAf/YUCIR8gICAV/QAAACAh/YUCISEgFkEEaiEWIBRBBGohFCATQX9qIhMNAAsLIAsgDiAEbEECdGoiFSAa/QsAYCAVIBv9CwBQIBUgHP0LAEAgFSAd/QsAMCAVIB79CwAgIBUgH/0LABAgFSAh/QsAAAJAAkAgF0EERw0AIBUgGf0LAHAMAQsgFSAZ/R8AOAJwIBdBAkgNACAVIBn9HwE4AnQgF0ECRg0AIBUgGf0fAjgCeAsgDyASaiEPIBAgEmohECAOQQFqIg4gAUcNAAwHCwsgAA0FIAMgFWohEyAFIBVqIQ1BACEMIAchDiAIIQ8DQCAJIAxBAnRqKAIAIRUCQAJAIAUNAP0MAAAAAAAAAAAAAAAAAAAAACEgDAELIA39AAAAISALAkAgFUEBSA0AIBVBAXEhEEEAIRQCQCAVQQFGDQAgFUH+////B3EhEUEAIRQgDiEVIA8hFgNAIBZBBGr9CQIAIBMgFUEEaigCAEECdGr9AAAAIBb9CQIAIBMgFSgCAEECdGr9AAAAICD9hQL9hQIhICAVQQhqIRUgFkEIaiEWIBEgFEECaiIURw0ACwsgEEUNACAIIAwgAmxBAnQiFWogFEECdCIWav0JAgAgEyAHIBVqIBZqKAIAQQJ0av0AAAAgIP2FAiEgCyALIAwgBGxBAnRqIRUCQAJAIBdBBEcNACAVICD9CwAADAELIBUgIP0fADgCACAXQQJIDQAgFSAg/R8BOAIEIBdBAkYNACAVICD9HwI4AggLIA4gEmohDiAPIBJqIQ8gDEEBaiIMIAFHDQAMBgsLIAANBCADIBVqIREgBSAVaiEQQQAhDCAIIQ4gByEPA0AgCSAMQQJ0aigCACEUAkACQCAFDQD9DAAAAAAAAAAAAAAAAAAAAAAiICEZDAELIBD9AAAQISAgEP0AAAAhGQsgDiEVIA8hFgJAIBRBAUgNAANAIBX9CQIAIhogESAWKAIAQQJ0aiIT/QAAECAg/YUCISAgGiAT/QAAACAZ/YUCIRkgFUEEaiEVIBZBBGohFiAUQX9qIhQNAAsLIAsgDCAEbEECdGoiFSAZ/QsAAAJAAkAgF0EERw0AIBUgIP0LABAMAQsgFSAg/R8AOAIQIBdBAkgNACAVICD9HwE4AhQgF0ECRg0AIBUgIP0fAjgCGAsgDiASaiEOIA8gEmohDyAMQQFqIgwgAUcNAAwFCwsgAA0DIAMgFWohESAFIBVqIRBBACEMIAghDiAHIQ8DQCAJIAxBAnRqKAIAIRMCQAJAIAUNAP0MAAAAAAAAAAAAAAAAAAAAACIZIRogGSEbDAELIBD9AAAgIRkgEP0AABAhGiAQ/QAAACEbCyAOIRUgDyEWAkAgE0EBSA0AA0AgFf0JAgAiICARIBYoAgBBAnRqIhT9AAAgIBn9hQIhGSAgIBT9AAAQIBr9hQIhGiAgIBT9AAAAIBv9hQIhGyAVQQRqIRUgFkEEaiEWIBNBf2oiEw0ACwsgCyAMIARsQQJ0aiIVIBr9CwAQIBUgG/0LAAACQAJAIBdBBEcNACAVIBn9CwAgDAELIBUgGf0fADgCICAXQQJIDQAgFSAZ/R8BOAIkIBdBAkYNACAVIBn9HwI4AigLIA4gEmohDiAPIBJqIQ8gDEEBaiIMIAFHDQAMBAsLIAANAiADIBVqIREgBSAVaiEQQQAhDCAIIQ4gByEPA0AgCSAMQQJ0aigCACETAkACQCAFDQD9DAAAAAAAAAAAAAAAAAAAAAAiGSEaIBkhGyAZIRwMAQsgEP0AADAhGSAQ/QAAICEaIBD9AAAQIRsgEP0AAAAhHAsgDiEWIA8hFAJAIBNBAUgNAANAIBb9CQIAIiAgESAUKAIAQQJ0aiIV/QAAMCAZ/YUCIRkgICAV/QAAICAa/YUCIRogICAV/QAAECAb/YUCIRsgICAV/QAAACAc/YUCIRwgFkEEaiEWIBRBBGohFCATQX9qIhMNAAsLIAsgDCAEbEECdGoiFSAa/QsAICAVIBv9CwAQIBUgHP0LAAACQAJAIBdBBEcNACAVIBn9CwAwDAELIBUgGf0fADgCMCAXQQJIDQAgFSAZ/R8BOAI0IBdBAkYNACAVIBn9HwI4AjgLIA4gEmohDiAPIBJqIQ8gDEEBaiIMIAFHDQAMAwsLIAANASADIBVqIREgBSAVaiEOQQAhDCAIIQ8gByEQA0AgCSAMQQJ0aigCACETAkACQCAFDQD9DAAAAAAAAAAAAAAAAAAAAAAiGSEaIBkhGyAZIRwgGSEdDAELIA79AABAIRkgDv0AADAhGiAO/QAAICEbIA79AAAQIRwgDv0AAAAhHQsgDyEWIBAhFAJAIBNBAUgNAANAIBb9CQIAIiAgESAUKAIAQQJ0aiIV/QAAQCAZ/YUCIRkgICAV/QAAMCAa/YUCIRogICAV/QAAICAb/YUCIRsgICAV/QAAECAc/YUCIRwgICAV/QAAACAd/YUCIR0gFkEEaiEWIBRBBGohFCATQX9qIhMNAAsLIAsgDCAEbEECdGoiFSAa/QsAMCAVIBv9CwAgIBUgHP0LABAgFSAd/QsAAAJAAkAgF0EERw0AIBUgGf0LAEAMAQsgFSAZ/R8AOAJAIBdBAkgNACAVIBn9HwE4AkQgF0ECRg0AIBUgGf0fAjgCSAsgDyASaiEPIBAgEmohECAMQQFqIgwgAUcNAAwCCwsgAA0AIAMgFWohESAFIBVqIQ5BACEMIAghDyAHIRADQCAJIAxBAnRqKAIAIRMCQAJAIAUNAP0MAAAAAAAAAAAAAAAAAAAAACIZIRogGSEbIBkhHCAZIR0gGSEeDAELIA79AABQIRkgDv0AAEAhGiAO/QAAMCEbIA79AAAgIRwgDv0AABAhHSAO/QAAACEeCyAPIRYgECEUAkAgE0EBSA0AA0AgFv0JAgAiICARIBQoAgBBAnRqIhX9AABQIBn9hQIhGSAgIBX9AABAIBr9hQIhGiAgIBX9AAAwIBv9hQIhGyAgIBX9AAAgIBz9hQIhHCAgIBX9AAAQIB39hQIhHSAgIBX9AAAAIB79hQIhHiAWQQRqIRYgFEEEaiEUIBNBf2oiEw0ACwsgCyAMIARsQQJ0aiIVIBr9CwBAIBUgG/0LADAgFSAc/QsAICAVIB39CwAQIBUgHv0LAAACQAJAIBdBBEcNACAVIBn9CwBQDAELIBUgGf0fADgCUCAXQQJIDQAgFSAZ/R8BOAJUIBdBAkYNACAVIBn9HwI4AlgLIA8gEmohDyAQIBJqIRAgDEEBaiIMIAFHDQALCyAKQSBqIgogBEgNAAsLC6YSATR/AkAgAUEBSA0AIAYgBWwhEyADIAJsIhQgBGwhFSAIIAdsIhYgCGwhFwJAIAJBAUgNACATIAdsIRggA0EBSCAIQQFIciEZIBNBAUggB0EBSCIaciEbQQAgC2shHCAHQQNxIR0gB0H8////B3EhHiAHQQJ0IR8gDiANayEgIAcgBmwiIUECdCEiIAkgB2wiI0ECdCEkIBZBAnQhJSAjIAZsQQJ0ISYgF0ECdCEnICEgBWxBAnQhKCAXIANsQQJ0ISkgB0F8aiIWQQJ2QQFqIiFB/P///wdxISogIUEDcSErIA4gB0EAIAogBmwgC2prbEECdGohLCAHQQRIIS0gFkEMSSEuIA4hL0EAITADQCAAIBUgMGxBAnRqIBQgBCAMIBdBACAPIBAgESASEICAgIAAAkAgGw0AICAgKCAwbGohMUEAITIgLyEzA0BBACEjAkACQCAHQQRJDQBBACEjIDEgHyAybGpBEEkNACAeISMgMyEWIA0hIQNAIBYgIf0AAgD9CwIAIBZBEGohFiAhQRBqISEgI0F8aiIjDQALIB4hIyAeIAdGDQELICMhNAJAIB1FDQAgHSAjaiE0ICNBAnQhFiAdISEDQCAzIBZqIA0gFmoqAgA4AgAgFkEEaiEWICFBf2oiIQ0ACwsgIyAHa0F8Sw0AIDRBAnQhFiAHIDRrITQDQCAzIBZqIiEgDSAWaiIjKgIAOAIAICFBBGogI0EEaioCADgCACAhQQhqICNBCGoqAgA4AgAgIUEMaiAjQQxqKgIAOAIAIBZBEGohFiA0QXxqIjQNAAsLIDMgH2ohMyAyQQFqIjIgE0cNAAsLAkAgGQ0AAkAgLQ0AIA4gGCAwbEECdGohNUEAITYgLCE3IA8hOANAIDYgA2whOSA2IAlsIAprITogNyE7IDghPEEAIT0DQCA9IAlsIAtrIT4gDyA9IDlqIBdsQQJ0aiE/QQAhQCA7IUEgPCFCA0ACQCA6IEBqIhZBAEgNACAWIAVODQAgQCAIbCFDIBYgBmwhREEAIUUgQSEyIEIhMQNAAkAgPiBFaiJGQQBIDQAgRiAGTg0AAkACQCAuRQ0AQQAhFkEEISMMAQtBBCEjICohMyAyIRYgMSEhA0AgFiAW/QAAACAh/QAAAP3kAf0LAAAgFkEQaiI0IDT9AAAAICFBEGr9AAAA/eQB/QsAACAWQSBqIjQgNP0AAAAgIUEgav0AAAD95AH9CwAAIBZBMGoiNCA0/QAAACAhQTBq/QAAAP3kAf0LAAAgFkHAAGohFiAhQcAAaiEhICNBEGohIyAzQXxqIjMNAAsgI0F8aiEWCwJAICtFDQAgPyBFIENqIAdsQQJ0aiE0IDUgRiBEaiAHbEECdGohRiArISEDQCBGIBZBAnQiFmoiMyAz/QAAACA0IBZq/QAAAP3kAf0LAAAgIyIWQQRqISMgFiEWICFBf2oiIQ0ACyAjQXxqIRYLIBYgB04NACAWITQCQCAHIBZrQQNxIiNFDQAgFiAjaiE0IBZBAnQhIQNAIDIgIWoiMyAxICFqKgIAIDMqAgCSOAIAICFBBGohISAjQX9qIiMNAAsLIBYgB2tBfEsNACA0QQJ0ISEgByA0ayEzA0AgMiAhaiIWIDEgIWoiIyoCACAWKgIAkjgCACAWQQRqIjQgI0EEaioCACA0KgIAkjgCACAWQQhqIjQgI0EIaioCACA0KgIAkjgCACAWQQxqIhYgI0EMaioCACAWKgIAkjgCACAhQRBqISEgM0F8aiIzDQALCyAyIB9qITIgMSAfaiExIEVBAWoiRSAIRw0ACwsgQSAiaiFBIEIgJWohQiBAQQFqIkAgCEcNAAsgOyAkaiE7IDwgJ2ohPCA9QQFqIj0gA0cNAAsgNyAmaiE3IDggKWohOCA2QQFqIjYgAkYNAgwACwsgGg0AQQAhQCAPIUEgLCFCA0AgQCAJbCAKayE+IEEhRCBCIT8gHCFDQQAhNQNAQQAhRSBEITIgPyExA0ACQCA+IEVqIhZBAEgNACAWIAVODQBBACEhIEMhFiAIISMDQAJAIBZBAEgNACAWIAZODQAgMSAhaiIzIDIgIWoiNCoCACAzKgIAkjgCACAHQQFGDQAgM0EEaiJGIDRBBGoqAgAgRioCAJI4AgAgB0ECRg0AIDNBCGoiMyA0QQhqKgIAIDMqAgCSOAIACyAhIB9qISEgFkEBaiEWICNBf2oiIw0ACwsgMiAlaiEyIDEgImohMSBFQQFqIkUgCEcNAAsgRCAnaiFEID8gJGohPyBDIAlqIUMgNUEBaiI1IANHDQALIEEgKWohQSBCICZqIUIgQEEBaiJAIAJHDQALCyAsIChqISwgLyAoaiEvIDBBAWoiMCABRw0ADAILCwJAIBNBAEoNACAEIANsIAJsQQJ0IRYDQCAAIBQgBCAMIBdBACAPIBAgESASEICAgIAAIAAgFmohACABQX9qIgENAAwCCwsCQCAHQQBKDQAgBCADbCACbEECdCEWA0AgACAUIAQgDCAXQQAgDyAQIBEgEhCAgICAACAAIBZqIQAgAUF/aiIBDQAMAgsLIAdBA3EhMSAHQfz///8HcSEfIAdBAnQhRiAOIA1rISsgByAGbCAFbEECdCE+IAdBBEkhRUEAIQgDQCAAIBUgCGxBAnRqIBQgBCAMIBdBACAPIBAgESASEICAgIAAICsgPiAIbGohBiAOITNBACEyA0BBACEjAkACQCBFDQAgBiBGIDJsakEQSQ0AIB8hIyAzIRYgDSEhA0AgFiAh/QACAP0LAgAgFkEQaiEWICFBEGohISAjQXxqIiMNAAsgHyEjIB8gB0YNAQsgIyE0AkAgMUUNACAxICNqITQgI0ECdCEWIDEhIQNAIDMgFmogDSAWaioCADgCACAWQQRqIRYgIUF/aiIhDQALCyAjIAdrQXxLDQAgNEECdCEWIAcgNGshNANAIDMgFmoiISANIBZqIiMqAgA4AgAgIUEEaiAjQQRqKgIAOAIAICFBCGogI0EIaioCADgCACAhQQxqICNBDGoqAgA4AgAgFkEQaiEWIDRBfGoiNA0ACwsgMyBGaiEzIDJBAWoiMiATRw0ACyAOID5qIQ4gCEEBaiIIIAFHDQALCwveAwQEfwF7AX8BfUEEIQJBACEDAkAgAUEESA0AIAFBfGoiBEECdkEBaiIDQQNxIQUCQAJAIARBDE8NAEEAIQMMAQsgA0H8////B3EhA0EEIQIgACEEA0AgBCAE/QAAAP0MAAAAAAAAAAAAAAAAAAAAACIG/ekB/QsAACAEQRBqIgcgB/0AAAAgBv3pAf0LAAAgBEEgaiIHIAf9AAAAIAb96QH9CwAAIARBMGoiByAH/QAAACAG/ekB/QsAACAEQcAAaiEEIAJBEGohAiADQXxqIgMNAAsgAkF8aiEDCyAFRQ0AA0AgACADQQJ0aiIEIAT9AAAA/QwAAAAAAAAAAAAAAAAAAAAA/ekB/QsAACACIgRBBGohAiAEIQMgBUF/aiIFDQALIAJBfGohAwsCQCABIANMDQACQCABIANrIgVBA00NACAAIANBAnRqIQQgAyABQQNxIgdqIAFrIQIgAyAFIAdraiEDA0AgBCAE/QACAP0MAAAAAAAAAAAAAAAAAAAAAP3rAf0LAgAgBEEQaiEEIAJBBGoiAg0ACyAHRQ0BCyABIANrIQIgACADQQJ0aiEEA0AgBEMAAAAAIAQqAgAiCCAIQwAAAABdGzgCACAEQQRqIQQgAkF/aiICDQALCwuYCQMEfwN7BH8jgICAgABBEGshAkEAIQMCQCABQQRIDQBBACEEIAAhBQNAIAX9DAAAgD8AAIA/AACAPwAAgD8iBiAGIAYgBf0AAAD94QH9DAAArsIAAK7CAACuwgAArsL96QH9DAAAsEIAALBCAACwQgAAsEL96AEiB/0MO6q4PzuquD87qrg/O6q4P/3mAf1qIgj9DIOAXjmDgF45g4BeOYOAXjn95gEgByAI/QwAgDG/AIAxvwCAMb8AgDG//eYB/eQB/eQBIgcgByAH/eYBIAcgByAHIAcgB/0MZ2lQOWdpUDlnaVA5Z2lQOf3mAf0MzkO3Os5DtzrOQ7c6zkO3Ov3kAf3mAf0MCIkIPAiJCDwIiQg8CIkIPP3kAf3mAf0MwakqPcGpKj3BqSo9wakqPf3kAf3mAf0MqqoqPqqqKj6qqio+qqoqPv3kAf3mAf0MAAAAPwAAAD8AAAA/AAAAP/3kAf3mAf3kAf3kASAI/fgBQRf9qwH9DAAAgD8AAIA/AACAPwAAgD/9rgH95gH95AH95wH9CwAAIAVBEGohBSAEQQhqIQkgBEEEaiIDIQQgCSABTA0ACwsCQCABIANMDQAgAv0MAAAAAAAAAAAAAAAAAAAAAP0LBAAgAyEKAkACQCABIANrIgtBA00NACAAIANBAnRqIQUgAyABQQNxIgxqIAFrIQkgAyALIAxraiEKIAIhBANAIAQgBf0AAgD9CwQAIARBEGohBCAFQRBqIQUgCUEEaiIJDQALIAxFDQELIAIgCkECdCIEIANBAnRraiEFIAEgCmshCSAAIARqIQQDQCAFIAQqAgA4AgAgBEEEaiEEIAVBBGohBSAJQX9qIgkNAAsLIAL9DAAAgD8AAIA/AACAPwAAgD8iBiAGIAYgAv0ABAD94QH9DAAArsIAAK7CAACuwgAArsL96QH9DAAAsEIAALBCAACwQgAAsEL96AEiB/0MO6q4PzuquD87qrg/O6q4P/3mAf1qIgj9DIOAXjmDgF45g4BeOYOAXjn95gEgByAI/QwAgDG/AIAxvwCAMb8AgDG//eYB/eQB/eQBIgcgByAH/eYBIAcgByAHIAcgB/0MZ2lQOWdpUDlnaVA5Z2lQOf3mAf0MzkO3Os5DtzrOQ7c6zkO3Ov3kAf3mAf0MCIkIPAiJCDwIiQg8CIkIPP3kAf3mAf0MwakqPcGpKj3BqSo9wakqPf3kAf3mAf0MqqoqPqqqKj6qqio+qqoqPv3kAf3mAf0MAAAAPwAAAD8AAAA/AAAAP/3kAf3mAf3kAf3kASAI/fgBQRf9qwH9DAAAgD8AAIA/AACAPwAAgD/9rgH95gH95AH95wH9CwQAIAMhCgJAIAtBA00NACAAIANBAnRqIQUgAyABQQNxIgxqIAFrIQkgAyALIAxraiEKIAIhBANAIAUgBP0ABAD9CwIAIARBEGohBCAFQRBqIQUgCUEEaiIJDQALIAxFDQELIAIgCkECdCIEIANBAnRraiEFIAEgCmshCSAAIARqIQQDQCAEIAUqAgA4AgAgBUEEaiEFIARBBGohBCAJQX9qIgkNAAsLCw==";
const DECODER_KERNELS_SIMD = "AGFzbQEAAAABKQNgCn9/f39/f39/f38AYBN/f39/f39/f39/f39/f39/f39/AGACf38AAwUEAAECAgQFAXABAQEFAwEAAgYPAn8BQYCIBAt/AEGAiAQLB0gGBm1lbW9yeQIAC21hdG11bF9iaWFzAAAOY29udl90cmFuc3Bvc2UAAQRyZWx1AAIHc2lnbW9pZAADC19faGVhcF9iYXNlAwEKiz0E5h0DDn8BfQl7AkAgAUEBSA0AAkAgAkEBSA0AIAJBAnQhCiAEQQF0IQsgAkH+////B3EhDCACQQFxIQ1BACEOIAAhDwNAIAggDiACbEECdCIQaiERIAcgEGohEkEAIRNBACEUAkAgAkEBRg0AQQAhFSAPIRZBACETQQAhFANAIBEgFEECdCIXaiAWKgIAIhg4AgAgEiAXaiAVNgIAIBEgFCAYQwAAAABcaiIUQQJ0IhdqIBZBBGoqAgAiGDgCACASIBdqIAQgFWo2AgAgFCAYQwAAAABcaiEUIBZBCGohFiAVIAtqIRUgDCATQQJqIhNHDQALCwJAIA1FDQAgEiAUQQJ0IhVqIBMgBGw2AgAgESAVaiAAIBBqIBNBAnRqKgIAIhg4AgAgFCAYQwAAAABcaiEUCyAJIA5BAnRqIBQ2AgAgDyAKaiEPIA5BAWoiDiABRw0ADAILC0EAIRQCQCABQQNNDQAgAUH8////B3EiFCEWIAkhFQNAIBX9DAAAAAAAAAAAAAAAAAAAAAD9CwIAIBVBEGohFSAWQXxqIhYNAAsgFCABRg0BCyABIBRrIRYgCSAUQQJ0aiEVA0AgFUEANgIAIBVBBGohFSAWQX9qIhYNAAsLAkAgBEEBSA0AIAJBAnQhEkEAIQIgAUEBSCEKA0AgBCACayIVQSAgFUEgSBsiFSAVQQNqQQRtIhZBAnRrQQRqIRcgBiACQQJ0IhVqIQsCQAJAAkACQAJAAkACQAJAAkAgFkF/ag4HAgMEBQYHAAELIAoNByADIBVqIREgBSAVaiEMQQAhDiAIIQ8gByEQA0AgCSAOQQJ0aigCACETAkACQCAFDQD9DAAAAAAAAAAAAAAAAAAAAAAiGSEaIBkhGyAZIRwgGSEdIBkhHiAZIR8MAQsgDP0AAGAhGSAM/QAAUCEaIAz9AABAIRsgDP0AADAhHCAM/QAAICEdIAz9AAAQIR4gDP0AAAAhHwsgDyEWIBAhFAJAIBNBAUgNAANAIBb9CQIAIiAgESAUKAIAQQJ0aiIV/QAAYP3mASAZ/eQBIRkgICAV/QAAUP3mASAa/eQBIRogICAV/QAAQP3mASAb/eQBIRsgICAV/QAAMP3mASAc/eQBIRwgICAV/QAAIP3mASAd/eQBIR0gICAV/QAAEP3mASAe/eQBIR4gICAV/QAAAP3mASAf/eQBIR8gFkEEaiEWIBRBBGohFCATQX9qIhMNAAsLIAsgDiAEbEECdGoiFSAa/QsAUCAVIBv9CwBAIBUgHP0LADAgFSAd/QsAICAVIB79CwAQIBUgH/0LAAACQAJAIBdBBEcNACAVIBn9CwBgDAELIBUgGf0fADgCYCAXQQJIDQAgFSAZ/R8BOAJkIBdBAkYNACAVIBn9HwI4AmgLIA8gEmohDyAQIBJqIRAgDkEBaiIOIAFHDQAMCAsLIAoNBiADIBVqIREgBSAVaiEMQQAhDiAIIQ8gByEQA0AgCSAOQQJ0aigCACETAkACQCAFDQD9DAAAAAAAAAAAAAAAAAAAAAAiGSEaIBkhGyAZIRwgGSEdIBkhHiAZIR8gGSEhDAELIAz9AABwIRkgDP0AAGAhGiAM/QAAUCEbIAz9AABAIRwgDP0AADAhHSAM/QAAICEeIAz9AAAQIR8gDP0AAAAhIQsgDyEWIBAhFAJAIBNBAUgNAANAIBb9CQIAIiAgESAUKAIAQQJ0aiIV/QAAcP3mASAZ/eQBIRkgICAV/QAAYP3mASAa/eQBIRogICAV/QAAUP3mASAb/eQBIRsgICAV/QAAQP3mASAc/eQBIRwgICAV/QAAMP3mASAd/eQBIR0gICAV/QAAIP3mASAe/eQBIR4gICAV/QAAEP3mASAf/eQBIR8gICAV/QAAAP3mASAh/eQBISEgFkEEaiEWIBRBBGohFCATQX9qIhMNAAsLIAsgDiAEbEECdGoiFSAa/QsAYCAVIBv9CwBQIBUgHP0LAEAgFSAd/QsAMCAVIB79CwAgIBUgH/0LABAgFSAh/QsAAAJAAkAgF0EERw0AIBUgGf0LAHAMAQsgFSAZ/R8AOAJwIBdBAkgNACAVIBn9HwE4AnQgF0ECRg0AIBUgGf0fAjgCeAsgDyASaiEPIBAgEmohECAOQQFqIg4gAUcNAAwHCwsgCg0FIAMgFWohEyAFIBVqIQ9BACERIAghDCAHIQ4DQCAJIBFBAnRqKAIAIRQCQAJAIAUNAP0MAAAAAAAAAAAAAAAAAAAAACEgDAELIA/9AAAAISALIAwhFSAOIRYCQCAUQQFIDQADQCAgIBX9CQIAIBMgFigCAEECdGr9AAAA/eYB/eQBISAgFUEEaiEVIBZBBGohFiAUQX9qIhQNAAsLIAsgESAEbEECdGohFQJAAkAgF0EERw0AIBUgIP0LAAAMAQsgFSAg/R8AOAIAIBdBAkgNACAVICD9HwE4AgQgF0ECRg0AIBUgIP0fAjgCCAsgDCASaiEMIA4gEmohDiARQQFqIhEgAUcNAAwGCwsgCg0EIAMgFWohESAFIBVqIRBBACEMIAghDiAHIQ8DQCAJIAxBAnRqKAIAIRQCQAJAIAUNAP0MAAAAAAAAAAAAAAAAAAAAACIgIRkMAQsgEP0AABAhICAQ/QAAACEZCyAOIRUgDyEWAkAgFEEBSA0AA0AgFf0JAgAiGiARIBYoAgBBAnRqIhP9AAAQ/eYBICD95AEhICAaIBP9AAAA/eYBIBn95AEhGSAVQQRqIRUgFkEEaiEWIBRBf2oiFA0ACwsgCyAMIARsQQJ0aiIVIBn9CwAAAkACQCAXQQRHDQAgFSAg/QsAEAwBCyAVICD9HwA4AhAgF0ECSA0AIBUgIP0fATgCFCAXQQJGDQAgFSAg/R8COAIYCyAOIBJqIQ4gDyASaiEPIAxBAWoiDCABRw0ADAULCyAKDQMgAyAVaiERIAUgFWohEEEAIQwgCCEOIAchDwNAIAkgDEECdGooAgAhEwJAAkAgBQ0A/QwAAAAAAAAAAAAAAAAAAAAAIhkhGiAZIRsMAQsgEP0AACAhGSAQ/QAAECEaIBD9AAAAIRsLIA4hFSAPIRYCQCATQQFIDQADQCAV/QkCACIgIBEgFigCAEECdGoiFP0AACD95gEgGf3kASEZICAgFP0AABD95gEgGv3kASEaICAgFP0AAAD95gEgG/3kASEbIBVBBGohFSAWQQRqIRYgE0F/aiITDQALCyALIAwgBGxBAnRqIhUgGv0LABAgFSAb/QsAAAJAAkAgF0EERw0AIBUgGf0LACAMAQsgFSAZ/R8AOAIgIBdBAkgNACAVIBn9HwE4AiQgF0ECRg0AIBUgGf0fAjgCKAsgDiASaiEOIA8gEmohDyAMQQFqIgwgAUcNAAwECwsgCg0CIAMgFWohESAFIBVqIRBBACEMIAghDiAHIQ8DQCAJIAxBAnRqKAIAIRMCQAJAIAUNAP0MAAAAAAAAAAAAAAAAAAAAACIZIRogGSEbIBkhHAwBCyAQ/QAAMCEZIBD9AAAgIRogEP0AABAhGyAQ/QAAACEcCyAOIRYgDyEUAkAgE0EBSA0AA0AgFv0JAgAiICARIBQoAgBBAnRqIhX9AAAw/eYBIBn95AEhGSAgIBX9AAAg/eYBIBr95AEhGiAgIBX9AAAQ/eYBIBv95AEhGyAgIBX9AAAA/eYBIBz95AEhHCAWQQRqIRYgFEEEaiEUIBNBf2oiEw0ACwsgCyAMIARsQQJ0aiIVIBr9CwAgIBUgG/0LABAgFSAc/QsAAAJAAkAgF0EERw0AIBUgGf0LADAMAQsgFSAZ/R8AOAIwIBdBAkgNACAVIBn9HwE4AjQgF0ECRg0AIBUgGf0fAjgCOAsgDiASaiEOIA8gEmohDyAMQQFqIgwgAUcNAAwDCwsgCg0BIAMgFWohESAFIBVqIQ5BACEMIAghDyAHIRADQCAJIAxBAnRqKAIAIRMCQAJAIAUNAP0MAAAAAAAAAAAAAAAAAAAAACIZIRogGSEbIBkhHCAZIR0MAQsgDv0AAEAhGSAO/QAAMCEaIA79AAAgIRsgDv0AABAhHCAO/QAAACEdCyAPIRYgECEUAkAgE0EBSA0AA0AgFv0JAgAiICARIBQoAgBBAnRqIhX9AABA/eYBIBn95AEhGSAgIBX9AAAw/eYBIBr95AEhGiAgIBX9AAAg/eYBIBv95AEhGyAgIBX9AAAQ/eYBIBz95AEhHCAgIBX9AAAA/eYBIB395AEhHSAWQQRqIRYgFEEEaiEUIBNBf2oiEw0ACwsgCyAMIARsQQJ0aiIVIBr9CwAwIBUgG/0LACAgFSAc/QsAECAVIB39CwAAAkACQCAXQQRHDQAgFSAZ/QsAQAwBCyAVIBn9HwA4AkAgF0ECSA0AIBUgGf0fATgCRCAXQQJGDQAgFSAZ/R8COAJICyAPIBJqIQ8gECASaiEQIAxBAWoiDCABRw0ADAILCyAKDQAgAyAVaiERIAUgFWohDkEAIQwgCCEPIAchEANAIAkgDEECdGooAgAhEwJAAkAgBQ0A/QwAAAAAAAAAAAAAAAAAAAAAIhkhGiAZIRsgGSEcIBkhHSAZIR4MAQsgDv0AAFAhGSAO/QAAQCEaIA79AAAwIRsgDv0AACAhHCAO/QAAECEdIA79AAAAIR4LIA8hFiAQIRQCQCATQQFIDQADQCAW/QkCACIgIBEgFCgCAEECdGoiFf0AAFD95gEgGf3kASEZICAgFf0AAED95gEgGv3kASEaICAgFf0AADD95gEgG/3kASEbICAgFf0AACD95gEgHP3kASEcICAgFf0AABD95gEgHf3kASEdICAgFf0AAAD95gEgHv3kASEeIBZBBGohFiAUQQRqIRQgE0F/aiITDQALCyALIAwgBGxBAnRqIhUgGv0LAEAgFSAb/QsAMCAVIBz9CwAgIBUgHf0LABAgFSAe/QsAAAJAAkAgF0EERw0AIBUgGf0LAFAMAQsgFSAZ/R8AOAJQIBdBAkgNACAVIBn9HwE4AlQgF0ECRg0AIBUgGf0fAjgCWAsgDyASaiEPIBAgEmohECAMQQFqIgwgAUcNAAsLIAJBIGoiAiAESA0ACwsLphIBNH8CQCABQQFIDQAgBiAFbCETIAMgAmwiFCAEbCEVIAggB2wiFiAIbCEXAkAgAkEBSA0AIBMgB2whGCADQQFIIAhBAUhyIRkgE0EBSCAHQQFIIhpyIRtBACALayEcIAdBA3EhHSAHQfz///8HcSEeIAdBAnQhHyAOIA1rISAgByAGbCIhQQJ0ISIgCSAHbCIjQQJ0ISQgFkECdCElICMgBmxBAnQhJiAXQQJ0IScgISAFbEECdCEoIBcgA2xBAnQhKSAHQXxqIhZBAnZBAWoiIUH8////B3EhKiAhQQNxISsgDiAHQQAgCiAGbCALamtsQQJ0aiEsIAdBBEghLSAWQQxJIS4gDiEvQQAhMANAIAAgFSAwbEECdGogFCAEIAwgF0EAIA8gECARIBIQgICAgAACQCAbDQAgICAoIDBsaiExQQAhMiAvITMDQEEAISMCQAJAIAdBBEkNAEEAISMgMSAfIDJsakEQSQ0AIB4hIyAzIRYgDSEhA0AgFiAh/QACAP0LAgAgFkEQaiEWICFBEGohISAjQXxqIiMNAAsgHiEjIB4gB0YNAQsgIyE0AkAgHUUNACAdICNqITQgI0ECdCEWIB0hIQNAIDMgFmogDSAWaioCADgCACAWQQRqIRYgIUF/aiIhDQALCyAjIAdrQXxLDQAgNEECdCEWIAcgNGshNANAIDMgFmoiISANIBZqIiMqAgA4AgAgIUEEaiAjQQRqKgIAOAIAICFBCGogI0EIaioCADgCACAhQQxqICNBDGoqAgA4AgAgFkEQaiEWIDRBfGoiNA0ACwsgMyAfaiEzIDJBAWoiMiATRw0ACwsCQCAZDQACQCAtDQAgDiAYIDBsQQJ0aiE1QQAhNiAsITcgDyE4A0AgNiADbCE5IDYgCWwgCmshOiA3ITsgOCE8QQAhPQNAID0gCWwgC2shPiAPID0gOWogF2xBAnRqIT9BACFAIDshQSA8IUIDQAJAIDogQGoiFkEASA0AIBYgBU4NACBAIAhsIUMgFiAGbCFEQQAhRSBBITIgQiExA0ACQCA+IEVqIkZBAEgNACBGIAZODQACQAJAIC5FDQBBACEWQQQhIwwBC0EEISMgKiEzIDIhFiAxISEDQCAWIBb9AAAAICH9AAAA/eQB/QsAACAWQRBqIjQgNP0AAAAgIUEQav0AAAD95AH9CwAAIBZBIGoiNCA0/QAAACAhQSBq/QAAAP3kAf0LAAAgFkEwaiI0IDT9AAAAICFBMGr9AAAA/eQB/QsAACAWQcAAaiEWICFBwABqISEgI0EQaiEjIDNBfGoiMw0ACyAjQXxqIRYLAkAgK0UNACA/IEUgQ2ogB2xBAnRqITQgNSBGIERqIAdsQQJ0aiFGICshIQNAIEYgFkECdCIWaiIzIDP9AAAAIDQgFmr9AAAA/eQB/QsAACAjIhZBBGohIyAWIRYgIUF/aiIhDQALICNBfGohFgsgFiAHTg0AIBYhNAJAIAcgFmtBA3EiI0UNACAWICNqITQgFkECdCEhA0AgMiAhaiIzIDEgIWoqAgAgMyoCAJI4AgAgIUEEaiEhICNBf2oiIw0ACwsgFiAHa0F8Sw0AIDRBAnQhISAHIDRrITMDQCAyICFqIhYgMSAhaiIjKgIAIBYqAgCSOAIAIBZBBGoiNCAjQQRqKgIAIDQqAgCSOAIAIBZBCGoiNCAjQQhqKgIAIDQqAgCSOAIAIBZBDGoiFiAjQQxqKgIAIBYqAgCSOAIAICFBEGohISAzQXxqIjMNAAsLIDIgH2ohMiAxIB9qITEgRUEBaiJFIAhHDQALCyBBICJqIUEgQiAlaiFCIEBBAWoiQCAIRw0ACyA7ICRqITsgPCAnaiE8ID1BAWoiPSADRw0ACyA3ICZqITcgOCApaiE4IDZBAWoiNiACRg0CDAALCyAaDQBBACFAIA8hQSAsIUIDQCBAIAlsIAprIT4gQSFEIEIhPyAcIUNBACE1A0BBACFFIEQhMiA/ITEDQAJAID4gRWoiFkEASA0AIBYgBU4NAEEAISEgQyEWIAghIwNAAkAgFkEASA0AIBYgBk4NACAxICFqIjMgMiAhaiI0KgIAIDMqAgCSOAIAIAdBAUYNACAzQQRqIkYgNEEEaioCACBGKgIAkjgCACAHQQJGDQAgM0EIaiIzIDRBCGoqAgAgMyoCAJI4AgALICEgH2ohISAWQQFqIRYgI0F/aiIjDQALCyAyICVqITIgMSAiaiExIEVBAWoiRSAIRw0ACyBEICdqIUQgPyAkaiE/IEMgCWohQyA1QQFqIjUgA0cNAAsgQSApaiFBIEIgJmohQiBAQQFqIkAgAkcNAAsLICwgKGohLCAvIChqIS8gMEEBaiIwIAFHDQAMAgsLAkAgE0EASg0AIAQgA2wgAmxBAnQhFgNAIAAgFCAEIAwgF0EAIA8gECARIBIQgICAgAAgACAWaiEAIAFBf2oiAQ0ADAILCwJAIAdBAEoNACAEIANsIAJsQQJ0IRYDQCAAIBQgBCAMIBdBACAPIBAgESASEICAgIAAIAAgFmohACABQX9qIgENAAwCCwsgB0EDcSExIAdB/P///wdxIR8gB0ECdCFGIA4gDWshKyAHIAZsIAVsQQJ0IT4gB0EESSFFQQAhCANAIAAgFSAIbEECdGogFCAEIAwgF0EAIA8gECARIBIQgICAgAAgKyA+IAhsaiEGIA4hM0EAITIDQEEAISMCQAJAIEUNACAGIEYgMmxqQRBJDQAgHyEjIDMhFiANISEDQCAWICH9AAIA/QsCACAWQRBqIRYgIUEQaiEhICNBfGoiIw0ACyAfISMgHyAHRg0BCyAjITQCQCAxRQ0AIDEgI2ohNCAjQQJ0IRYgMSEhA0AgMyAWaiANIBZqKgIAOAIAIBZBBGohFiAhQX9qIiENAAsLICMgB2tBfEsNACA0QQJ0IRYgByA0ayE0A0AgMyAWaiIhIA0gFmoiIyoCADgCACAhQQRqICNBBGoqAgA4AgAgIUEIaiAjQQhqKgIAOAIAICFBDGogI0EMaioCADgCACAWQRBqIRYgNEF8aiI0DQALCyAzIEZqITMgMkEBaiIyIBNHDQALIA4gPmohDiAIQQFqIgggAUcNAAsLC94DBAR/AXsBfwF9QQQhAkEAIQMCQCABQQRIDQAgAUF8aiIEQQJ2QQFqIgNBA3EhBQJAAkAgBEEMTw0AQQAhAwwBCyADQfz///8HcSEDQQQhAiAAIQQDQCAEIAT9AAAA/QwAAAAAAAAAAAAAAAAAAAAAIgb96QH9CwAAIARBEGoiByAH/QAAACAG/ekB/QsAACAEQSBqIgcgB/0AAAAgBv3pAf0LAAAgBEEwaiIHIAf9AAAAIAb96QH9CwAAIARBwABqIQQgAkEQaiECIANBfGoiAw0ACyACQXxqIQMLIAVFDQADQCAAIANBAnRqIgQgBP0AAAD9DAAAAAAAAAAAAAAAAAAAAAD96QH9CwAAIAIiBEEEaiECIAQhAyAFQX9qIgUNAAsgAkF8aiEDCwJAIAEgA0wNAAJAIAEgA2siBUEDTQ0AIAAgA0ECdGohBCADIAFBA3EiB2ogAWshAiADIAUgB2tqIQMDQCAEIAT9AAIA/QwAAAAAAAAAAAAAAAAAAAAA/esB/QsCACAEQRBqIQQgAkEEaiICDQALIAdFDQELIAEgA2shAiAAIANBAnRqIQQDQCAEQwAAAAAgBCoCACIIIAhDAAAAAF0bOAIAIARBBGohBCACQX9qIgINAAsLC5gJAwR/A3sEfyOAgICAAEEQayECQQAhAwJAIAFBBEgNAEEAIQQgACEFA0AgBf0MAACAPwAAgD8AAIA/AACAPyIGIAYgBiAF/QAAAP3hAf0MAACuwgAArsIAAK7CAACuwv3pAf0MAACwQgAAsEIAALBCAACwQv3oASIH/Qw7qrg/O6q4PzuquD87qrg//eYB/WoiCP0Mg4BeOYOAXjmDgF45g4BeOf3mASAHIAj9DACAMb8AgDG/AIAxvwCAMb/95gH95AH95AEiByAHIAf95gEgByAHIAcgByAH/QxnaVA5Z2lQOWdpUDlnaVA5/eYB/QzOQ7c6zkO3Os5DtzrOQ7c6/eQB/eYB/QwIiQg8CIkIPAiJCDwIiQg8/eQB/eYB/QzBqSo9wakqPcGpKj3BqSo9/eQB/eYB/Qyqqio+qqoqPqqqKj6qqio+/eQB/eYB/QwAAAA/AAAAPwAAAD8AAAA//eQB/eYB/eQB/eQBIAj9+AFBF/2rAf0MAACAPwAAgD8AAIA/AACAP/2uAf3mAf3kAf3nAf0LAAAgBUEQaiEFIARBCGohCSAEQQRqIgMhBCAJIAFMDQALCwJAIAEgA0wNACAC/QwAAAAAAAAAAAAAAAAAAAAA/QsEACADIQoCQAJAIAEgA2siC0EDTQ0AIAAgA0ECdGohBSADIAFBA3EiDGogAWshCSADIAsgDGtqIQogAiEEA0AgBCAF/QACAP0LBAAgBEEQaiEEIAVBEGohBSAJQQRqIgkNAAsgDEUNAQsgAiAKQQJ0IgQgA0ECdGtqIQUgASAKayEJIAAgBGohBANAIAUgBCoCADgCACAEQQRqIQQgBUEEaiEFIAlBf2oiCQ0ACwsgAv0MAACAPwAAgD8AAIA/AACAPyIGIAYgBiAC/QAEAP3hAf0MAACuwgAArsIAAK7CAACuwv3pAf0MAACwQgAAsEIAALBCAACwQv3oASIH/Qw7qrg/O6q4PzuquD87qrg//eYB/WoiCP0Mg4BeOYOAXjmDgF45g4BeOf3mASAHIAj9DACAMb8AgDG/AIAxvwCAMb/95gH95AH95AEiByAHIAf95gEgByAHIAcgByAH/QxnaVA5Z2lQOWdpUDlnaVA5/eYB/QzOQ7c6zkO3Os5DtzrOQ7c6/eQB/eYB/QwIiQg8CIkIPAiJCDwIiQg8/eQB/eYB/QzBqSo9wakqPcGpKj3BqSo9/eQB/eYB/Qyqqio+qqoqPqqqKj6qqio+/eQB/eYB/QwAAAA/AAAAPwAAAD8AAAA//eQB/eYB/eQB/eQBIAj9+AFBF/2rAf0MAACAPwAAgD8AAIA/AACAP/2uAf3mAf3kAf3nAf0LBAAgAyEKAkAgC0EDTQ0AIAAgA0ECdGohBSADIAFBA3EiDGogAWshCSADIAsgDGtqIQogAiEEA0AgBSAE/QAEAP0LAgAgBEEQaiEEIAVBEGohBSAJQQRqIgkNAAsgDEUNAQsgAiAKQQJ0IgQgA0ECdGtqIQUgASAKayEJIAAgBGohBANAIAQgBSoCADgCACAFQQRqIQUgBEEEaiEEIAlBf2oiCQ0ACwsL";
let decoderKernels; // the compiled module, null where this browser runs neither

function kernelsModule() {
  if (decoderKernels !== undefined) return decoderKernels;
  decoderKernels = null;
  if (typeof WebAssembly !== "object") return null;
  for (const text of [DECODER_KERNELS_RELAXED, DECODER_KERNELS_SIMD]) {
    const bytes = fromB64(text, Uint8Array);
    if (!WebAssembly.validate(bytes)) continue;
    try {
      decoderKernels = new WebAssembly.Module(bytes);
      break;
    } catch (error) {
      decoderKernels = null; // compiling refused (a page's policy): the next
    }
  }
  return decoderKernels;
}

// The buffers a layer needs for rows images, [name, Type, length].
function layerBuffers(layer, rows) {
  const buffers = [["out", Float32Array, rows * layer.nOut]];
  if (layer.kind === "dense") {
    buffers.push(["nz", Int32Array, rows * layer.nIn], ["vals", Float32Array, rows * layer.nIn],
                 ["counts", Int32Array, rows]);
  } else {
    const [h, w, cIn] = layer.inShape, pixels = h * w;
    buffers.push(["cols", Float32Array, pixels * layer.k * layer.k * layer.outShape[2]],
                 ["nz", Int32Array, pixels * cIn], ["vals", Float32Array, pixels * cIn],
                 ["counts", Int32Array, pixels]);
  }
  return buffers;
}

// Moves the layers' weights and buffers into the memory of a new instance of
// the kernels, where the browser has them: every array becomes a view on
// that memory, grown once here and never again (growing detaches the views).
function placeInKernels(layers) {
  const module = kernelsModule();
  if (!module) return;
  const weighted = layers.filter((layer) => layer.kind !== "reshape");
  const rows = chunkRows(layers);
  const arrays = [[layers[0], "input", Float32Array, rows * layers[0].nIn]];
  for (const layer of weighted) {
    arrays.push([layer, "w", Float32Array, layer.w.length],
                [layer, "b", Float32Array, layer.b.length]);
    for (const [name, Type, length] of layerBuffers(layer, rows)) {
      arrays.push([layer, name, Type, length]);
    }
  }
  let instance;
  const offsets = [];
  try {
    instance = new WebAssembly.Instance(module, {});
    let end = instance.exports.__heap_base.value;
    for (const [, , Type, length] of arrays) {
      end = Math.ceil(end / 16) * 16;
      offsets.push(end);
      // 16 bytes to spare after each: the kernels' vector loads may read up
      // to three values past the end of a kernel or bias.
      end += length * Type.BYTES_PER_ELEMENT + 16;
    }
    const pages = instance.exports.memory.buffer.byteLength / 65536;
    instance.exports.memory.grow(Math.ceil(end / 65536) - pages);
  } catch (error) {
    return; // no memory that large here: the layers stay in plain JavaScript
  }
  const memory = instance.exports.memory;
  arrays.forEach(([layer, name, Type, length], i) => {
    const view = new Type(memory.buffer, offsets[i], length);
    if (layer[name]) view.set(layer[name]);
    layer[name] = view;
  });
  for (const layer of weighted) layer.kernels = instance.exports;
}

// The layer's buffer called name, holding at least size values (grown, never
// shrunk, so that repeated decodes allocate nothing; the kernels' buffers
// hold chunkRows images from the start).
function scratch(layer, name, size, Type = Float32Array) {
  if (!layer[name] || layer[name].length < size) layer[name] = new Type(size);
  return layer[name];
}

// out[r] = bias + x[r] @ w for rows r of x (rows, k), w (k, n) row-major,
// out (rows, n): a matrix product that skips zero inputs (ReLU makes about
// half of them) and adds four kernel rows per pass over an output row, in
// blocks of DENSE_COLUMNS columns. nz (rows * k) and counts (rows) are
// scratch for each row's nonzero input indices. Plain JavaScript, where the
// kernels are missing.
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
  const { nIn, nOut, w, b } = layer;
  const out = scratch(layer, "out", rows * nOut);
  const nz = scratch(layer, "nz", rows * nIn, Int32Array);
  const counts = scratch(layer, "counts", rows, Int32Array);
  if (layer.kernels) {
    layer.kernels.matmul_bias(x.byteOffset, rows, nIn, w.byteOffset, nOut, b.byteOffset,
                              out.byteOffset, nz.byteOffset, layer.vals.byteOffset,
                              counts.byteOffset);
  } else {
    matmulBias(x, rows, nIn, w, nOut, b, out, nz, counts);
  }
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
  if (layer.kernels) {
    layer.kernels.conv_transpose(
      x.byteOffset, rows, h, wIn, cIn, oh, ow, cOut, k, stride, top, left,
      w.byteOffset, b.byteOffset, out.byteOffset, cols.byteOffset, nz.byteOffset,
      layer.vals.byteOffset, counts.byteOffset);
    return out;
  }
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

function activate(layer, out, size) {
  if (layer.kernels) {
    layer.kernels[layer.activation](out.byteOffset, size);
  } else if (layer.activation === "sigmoid") {
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
  const result = new Float32Array(zs.length * nOut), chunk = chunkRows(layers);
  const input = scratch(layers[0], "input", chunk * nIn);
  for (let start = 0; start < zs.length; start += chunk) {
    const rows = Math.min(chunk, zs.length - start);
    for (let r = 0; r < rows; r++) {
      const z = zs[start + r];
      if (z.length !== nIn) {
        throw new Error(`decode: z has ${z.length} values, the decoder takes ${nIn}`);
      }
      for (let d = 0; d < nIn; d++) input[r * nIn + d] = z[d];
    }
    let h = input;
    for (const layer of layers) {
      if (layer.kind === "reshape") continue;
      h = layer.kind === "dense" ? denseForward(layer, h, rows)
        : convTransposeForward(layer, h, rows);
      activate(layer, h, rows * layer.nOut);
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
