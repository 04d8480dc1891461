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
const DECODER_KERNELS_RELAXED = "AGFzbQEAAAABJwNgCX9/f39/f39/fwBgEn9/f39/f39/f39/f39/f39/fwBgAn9/AAMFBAABAgIEBQFwAQEBBQMBAAIGDwJ/AUGAiAQLfwBBgIgECwdIBgZtZW1vcnkCAAttYXRtdWxfYmlhcwAADmNvbnZfdHJhbnNwb3NlAAEEcmVsdQACB3NpZ21vaWQAAwtfX2hlYXBfYmFzZQMBCt87BMIcAg1/CXsCQCABQQFIDQACQCACQQFIDQAgAkECdCEJIAJB/v///wdxIQogAkEBcSELQQAhDCAAIQ0DQCAHIAwgAmxBAnQiDmohD0EAIRBBACERAkAgAkEBRg0AQQAhECANIRJBACERA0AgDyARQQJ0aiAQNgIAIA8gESASKgIAQwAAAABcaiIRQQJ0aiAQQQFqNgIAIBEgEkEEaioCAEMAAAAAXGohESASQQhqIRIgEEECaiIQIApHDQALCwJAIAtFDQAgDyARQQJ0aiAQNgIAIBEgACAOaiAQQQJ0aioCAEMAAAAAXGohEQsgCCAMQQJ0aiARNgIAIA0gCWohDSAMQQFqIgwgAUcNAAwCCwtBACERAkAgAUEDTQ0AIAFB/P///wdxIhEhEiAIIRADQCAQ/QwAAAAAAAAAAAAAAAAAAAAA/QsCACAQQRBqIRAgEkF8aiISDQALIBEgAUYNAQsgASARayESIAggEUECdGohEANAIBBBADYCACAQQQRqIRAgEkF/aiISDQALCwJAIARBAUgNACACQQJ0IQ5BACETIAFBAUghFANAIAQgE2siEEEgIBBBIEgbIhAgEEEDakEEbSISQQJ0a0EEaiEMIAYgE0ECdCIQaiENAkACQAJAAkACQAJAAkACQAJAIBJBf2oOBwIDBAUGBwABCyAUDQcgAyAQaiEKIAUgEGohC0EAIQkgByEVA0AgCCAJQQJ0aigCACERAkACQCAFDQD9DAAAAAAAAAAAAAAAAAAAAAAiFiEXIBYhGCAWIRkgFiEaIBYhGyAWIRwMAQsgC/0AAGAhFiAL/QAAUCEXIAv9AABAIRggC/0AADAhGSAL/QAAICEaIAv9AAAQIRsgC/0AAAAhHAsCQCARQQFIDQAgACAJIAJsQQJ0aiEPIBUhEgNAIA8gEigCACIQQQJ0av0JAgAiHSAKIBAgBGxBAnRqIhD9AABgIBb9hQIhFiAdIBD9AABQIBf9hQIhFyAdIBD9AABAIBj9hQIhGCAdIBD9AAAwIBn9hQIhGSAdIBD9AAAgIBr9hQIhGiAdIBD9AAAQIBv9hQIhGyAdIBD9AAAAIBz9hQIhHCASQQRqIRIgEUF/aiIRDQALCyANIAkgBGxBAnRqIhAgF/0LAFAgECAY/QsAQCAQIBn9CwAwIBAgGv0LACAgECAb/QsAECAQIBz9CwAAAkACQCAMQQRHDQAgECAW/QsAYAwBCyAQIBb9HwA4AmAgDEECSA0AIBAgFv0fATgCZCAMQQJGDQAgECAW/R8COAJoCyAVIA5qIRUgCUEBaiIJIAFHDQAMCAsLIBQNBiADIBBqIQogBSAQaiEJQQAhCyAHIRUDQCAIIAtBAnRqKAIAIRECQAJAIAUNAP0MAAAAAAAAAAAAAAAAAAAAACIWIRcgFiEYIBYhGSAWIRogFiEbIBYhHCAWIR4MAQsgCf0AAHAhFiAJ/QAAYCEXIAn9AABQIRggCf0AAEAhGSAJ/QAAMCEaIAn9AAAgIRsgCf0AABAhHCAJ/QAAACEeCwJAIBFBAUgNACAAIAsgAmxBAnRqIQ8gFSESA0AgDyASKAIAIhBBAnRq/QkCACIdIAogECAEbEECdGoiEP0AAHAgFv2FAiEWIB0gEP0AAGAgF/2FAiEXIB0gEP0AAFAgGP2FAiEYIB0gEP0AAEAgGf2FAiEZIB0gEP0AADAgGv2FAiEaIB0gEP0AACAgG/2FAiEbIB0gEP0AABAgHP2FAiEcIB0gEP0AAAAgHv2FAiEeIBJBBGohEiARQX9qIhENAAsLIA0gCyAEbEECdGoiECAX/QsAYCAQIBj9CwBQIBAgGf0LAEAgECAa/QsAMCAQIBv9CwAgIBAgHP0LABAgECAe/QsAAAJAAkAgDEEERw0AIBAgFv0LAHAMAQsgECAW/R8AOAJwIAxBAkgNACAQIBb9HwE4AnQgDEECRg0AIBAgFv0fAjgCeAsgFSAOaiEVIAtBAWoiCyABRw0ADAcLCyAUDQUgAyAQaiEKIAUgEGohFUEAIQkgByELA0AgCCAJQQJ0aigCACESAkACQCAFDQD9DAAAAAAAAAAAAAAAAAAAAAAhHQwBCyAV/QAAACEdCwJAIBJBAUgNACAAIAkgAmxBAnRqIQ8gCyEQA0AgDyAQKAIAIhFBAnRq/QkCACAKIBEgBGxBAnRq/QAAACAd/YUCIR0gEEEEaiEQIBJBf2oiEg0ACwsgDSAJIARsQQJ0aiEQAkACQCAMQQRHDQAgECAd/QsAAAwBCyAQIB39HwA4AgAgDEECSA0AIBAgHf0fATgCBCAMQQJGDQAgECAd/R8COAIICyALIA5qIQsgCUEBaiIJIAFHDQAMBgsLIBQNBCADIBBqIQogBSAQaiEVQQAhCSAHIQsDQCAIIAlBAnRqKAIAIRICQAJAIAUNAP0MAAAAAAAAAAAAAAAAAAAAACIdIRYMAQsgFf0AABAhHSAV/QAAACEWCwJAIBJBAUgNACAAIAkgAmxBAnRqIQ8gCyEQA0AgDyAQKAIAIhFBAnRq/QkCACIXIAogESAEbEECdGoiEf0AABAgHf2FAiEdIBcgEf0AAAAgFv2FAiEWIBBBBGohECASQX9qIhINAAsLIA0gCSAEbEECdGoiECAW/QsAAAJAAkAgDEEERw0AIBAgHf0LABAMAQsgECAd/R8AOAIQIAxBAkgNACAQIB39HwE4AhQgDEECRg0AIBAgHf0fAjgCGAsgCyAOaiELIAlBAWoiCSABRw0ADAULCyAUDQMgAyAQaiEKIAUgEGohFUEAIQkgByELA0AgCCAJQQJ0aigCACERAkACQCAFDQD9DAAAAAAAAAAAAAAAAAAAAAAiFiEXIBYhGAwBCyAV/QAAICEWIBX9AAAQIRcgFf0AAAAhGAsCQCARQQFIDQAgACAJIAJsQQJ0aiEPIAshEANAIA8gECgCACISQQJ0av0JAgAiHSAKIBIgBGxBAnRqIhL9AAAgIBb9hQIhFiAdIBL9AAAQIBf9hQIhFyAdIBL9AAAAIBj9hQIhGCAQQQRqIRAgEUF/aiIRDQALCyANIAkgBGxBAnRqIhAgF/0LABAgECAY/QsAAAJAAkAgDEEERw0AIBAgFv0LACAMAQsgECAW/R8AOAIgIAxBAkgNACAQIBb9HwE4AiQgDEECRg0AIBAgFv0fAjgCKAsgCyAOaiELIAlBAWoiCSABRw0ADAQLCyAUDQIgAyAQaiEKIAUgEGohFUEAIQkgByELA0AgCCAJQQJ0aigCACERAkACQCAFDQD9DAAAAAAAAAAAAAAAAAAAAAAiFiEXIBYhGCAWIRkMAQsgFf0AADAhFiAV/QAAICEXIBX9AAAQIRggFf0AAAAhGQsCQCARQQFIDQAgACAJIAJsQQJ0aiEPIAshEgNAIA8gEigCACIQQQJ0av0JAgAiHSAKIBAgBGxBAnRqIhD9AAAwIBb9hQIhFiAdIBD9AAAgIBf9hQIhFyAdIBD9AAAQIBj9hQIhGCAdIBD9AAAAIBn9hQIhGSASQQRqIRIgEUF/aiIRDQALCyANIAkgBGxBAnRqIhAgF/0LACAgECAY/QsAECAQIBn9CwAAAkACQCAMQQRHDQAgECAW/QsAMAwBCyAQIBb9HwA4AjAgDEECSA0AIBAgFv0fATgCNCAMQQJGDQAgECAW/R8COAI4CyALIA5qIQsgCUEBaiIJIAFHDQAMAwsLIBQNASADIBBqIQogBSAQaiELQQAhCSAHIRUDQCAIIAlBAnRqKAIAIRECQAJAIAUNAP0MAAAAAAAAAAAAAAAAAAAAACIWIRcgFiEYIBYhGSAWIRoMAQsgC/0AAEAhFiAL/QAAMCEXIAv9AAAgIRggC/0AABAhGSAL/QAAACEaCwJAIBFBAUgNACAAIAkgAmxBAnRqIQ8gFSESA0AgDyASKAIAIhBBAnRq/QkCACIdIAogECAEbEECdGoiEP0AAEAgFv2FAiEWIB0gEP0AADAgF/2FAiEXIB0gEP0AACAgGP2FAiEYIB0gEP0AABAgGf2FAiEZIB0gEP0AAAAgGv2FAiEaIBJBBGohEiARQX9qIhENAAsLIA0gCSAEbEECdGoiECAX/QsAMCAQIBj9CwAgIBAgGf0LABAgECAa/QsAAAJAAkAgDEEERw0AIBAgFv0LAEAMAQsgECAW/R8AOAJAIAxBAkgNACAQIBb9HwE4AkQgDEECRg0AIBAgFv0fAjgCSAsgFSAOaiEVIAlBAWoiCSABRw0ADAILCyAUDQAgAyAQaiEKIAUgEGohC0EAIQkgByEVA0AgCCAJQQJ0aigCACERAkACQCAFDQD9DAAAAAAAAAAAAAAAAAAAAAAiFiEXIBYhGCAWIRkgFiEaIBYhGwwBCyAL/QAAUCEWIAv9AABAIRcgC/0AADAhGCAL/QAAICEZIAv9AAAQIRogC/0AAAAhGwsCQCARQQFIDQAgACAJIAJsQQJ0aiEPIBUhEgNAIA8gEigCACIQQQJ0av0JAgAiHSAKIBAgBGxBAnRqIhD9AABQIBb9hQIhFiAdIBD9AABAIBf9hQIhFyAdIBD9AAAwIBj9hQIhGCAdIBD9AAAgIBn9hQIhGSAdIBD9AAAQIBr9hQIhGiAdIBD9AAAAIBv9hQIhGyASQQRqIRIgEUF/aiIRDQALCyANIAkgBGxBAnRqIhAgF/0LAEAgECAY/QsAMCAQIBn9CwAgIBAgGv0LABAgECAb/QsAAAJAAkAgDEEERw0AIBAgFv0LAFAMAQsgECAW/R8AOAJQIAxBAkgNACAQIBb9HwE4AlQgDEECRg0AIBAgFv0fAjgCWAsgFSAOaiEVIAlBAWoiCSABRw0ACwsgE0EgaiITIARIDQALCwueEgE0fwJAIAFBAUgNACAGIAVsIRIgAyACbCITIARsIRQgCCAHbCIVIAhsIRYCQCACQQFIDQAgEiAHbCEXIANBAUggCEEBSHIhGCASQQFIIAdBAUgiGXIhGkEAIAtrIRsgB0EDcSEcIAdB/P///wdxIR0gB0ECdCEeIA4gDWshHyAHIAZsIiBBAnQhISAJIAdsIiJBAnQhIyAVQQJ0ISQgIiAGbEECdCElIBZBAnQhJiAgIAVsQQJ0IScgFiADbEECdCEoIAdBfGoiFUECdkEBaiIgQfz///8HcSEpICBBA3EhKiAOIAdBACAKIAZsIAtqa2xBAnRqISsgB0EESCEsIBVBDEkhLSAOIS5BACEvA0AgACAUIC9sQQJ0aiATIAQgDCAWQQAgDyAQIBEQgICAgAACQCAaDQAgHyAnIC9saiEwQQAhMSAuITIDQEEAISICQAJAIAdBBEkNAEEAISIgMCAeIDFsakEQSQ0AIB0hIiAyIRUgDSEgA0AgFSAg/QACAP0LAgAgFUEQaiEVICBBEGohICAiQXxqIiINAAsgHSEiIB0gB0YNAQsgIiEzAkAgHEUNACAcICJqITMgIkECdCEVIBwhIANAIDIgFWogDSAVaioCADgCACAVQQRqIRUgIEF/aiIgDQALCyAiIAdrQXxLDQAgM0ECdCEVIAcgM2shMwNAIDIgFWoiICANIBVqIiIqAgA4AgAgIEEEaiAiQQRqKgIAOAIAICBBCGogIkEIaioCADgCACAgQQxqICJBDGoqAgA4AgAgFUEQaiEVIDNBfGoiMw0ACwsgMiAeaiEyIDFBAWoiMSASRw0ACwsCQCAYDQACQCAsDQAgDiAXIC9sQQJ0aiE0QQAhNSArITYgDyE3A0AgNSADbCE4IDUgCWwgCmshOSA2ITogNyE7QQAhPANAIDwgCWwgC2shPSAPIDwgOGogFmxBAnRqIT5BACE/IDohQCA7IUEDQAJAIDkgP2oiFUEASA0AIBUgBU4NACA/IAhsIUIgFSAGbCFDQQAhRCBAITEgQSEwA0ACQCA9IERqIkVBAEgNACBFIAZODQACQAJAIC1FDQBBACEVQQQhIgwBC0EEISIgKSEyIDEhFSAwISADQCAVIBX9AAAAICD9AAAA/eQB/QsAACAVQRBqIjMgM/0AAAAgIEEQav0AAAD95AH9CwAAIBVBIGoiMyAz/QAAACAgQSBq/QAAAP3kAf0LAAAgFUEwaiIzIDP9AAAAICBBMGr9AAAA/eQB/QsAACAVQcAAaiEVICBBwABqISAgIkEQaiEiIDJBfGoiMg0ACyAiQXxqIRULAkAgKkUNACA+IEQgQmogB2xBAnRqITMgNCBFIENqIAdsQQJ0aiFFICohIANAIEUgFUECdCIVaiIyIDL9AAAAIDMgFWr9AAAA/eQB/QsAACAiIhVBBGohIiAVIRUgIEF/aiIgDQALICJBfGohFQsgFSAHTg0AIBUhMwJAIAcgFWtBA3EiIkUNACAVICJqITMgFUECdCEgA0AgMSAgaiIyIDAgIGoqAgAgMioCAJI4AgAgIEEEaiEgICJBf2oiIg0ACwsgFSAHa0F8Sw0AIDNBAnQhICAHIDNrITIDQCAxICBqIhUgMCAgaiIiKgIAIBUqAgCSOAIAIBVBBGoiMyAiQQRqKgIAIDMqAgCSOAIAIBVBCGoiMyAiQQhqKgIAIDMqAgCSOAIAIBVBDGoiFSAiQQxqKgIAIBUqAgCSOAIAICBBEGohICAyQXxqIjINAAsLIDEgHmohMSAwIB5qITAgREEBaiJEIAhHDQALCyBAICFqIUAgQSAkaiFBID9BAWoiPyAIRw0ACyA6ICNqITogOyAmaiE7IDxBAWoiPCADRw0ACyA2ICVqITYgNyAoaiE3IDVBAWoiNSACRg0CDAALCyAZDQBBACE/IA8hQCArIUEDQCA/IAlsIAprIT0gQCFDIEEhPiAbIUJBACE0A0BBACFEIEMhMSA+ITADQAJAID0gRGoiFUEASA0AIBUgBU4NAEEAISAgQiEVIAghIgNAAkAgFUEASA0AIBUgBk4NACAwICBqIjIgMSAgaiIzKgIAIDIqAgCSOAIAIAdBAUYNACAyQQRqIkUgM0EEaioCACBFKgIAkjgCACAHQQJGDQAgMkEIaiIyIDNBCGoqAgAgMioCAJI4AgALICAgHmohICAVQQFqIRUgIkF/aiIiDQALCyAxICRqITEgMCAhaiEwIERBAWoiRCAIRw0ACyBDICZqIUMgPiAjaiE+IEIgCWohQiA0QQFqIjQgA0cNAAsgQCAoaiFAIEEgJWohQSA/QQFqIj8gAkcNAAsLICsgJ2ohKyAuICdqIS4gL0EBaiIvIAFHDQAMAgsLAkAgEkEASg0AIAQgA2wgAmxBAnQhFQNAIAAgEyAEIAwgFkEAIA8gECAREICAgIAAIAAgFWohACABQX9qIgENAAwCCwsCQCAHQQBKDQAgBCADbCACbEECdCEVA0AgACATIAQgDCAWQQAgDyAQIBEQgICAgAAgACAVaiEAIAFBf2oiAQ0ADAILCyAHQQNxITAgB0H8////B3EhHiAHQQJ0IUUgDiANayEqIAcgBmwgBWxBAnQhPSAHQQRJIURBACEIA0AgACAUIAhsQQJ0aiATIAQgDCAWQQAgDyAQIBEQgICAgAAgKiA9IAhsaiEGIA4hMkEAITEDQEEAISICQAJAIEQNACAGIEUgMWxqQRBJDQAgHiEiIDIhFSANISADQCAVICD9AAIA/QsCACAVQRBqIRUgIEEQaiEgICJBfGoiIg0ACyAeISIgHiAHRg0BCyAiITMCQCAwRQ0AIDAgImohMyAiQQJ0IRUgMCEgA0AgMiAVaiANIBVqKgIAOAIAIBVBBGohFSAgQX9qIiANAAsLICIgB2tBfEsNACAzQQJ0IRUgByAzayEzA0AgMiAVaiIgIA0gFWoiIioCADgCACAgQQRqICJBBGoqAgA4AgAgIEEIaiAiQQhqKgIAOAIAICBBDGogIkEMaioCADgCACAVQRBqIRUgM0F8aiIzDQALCyAyIEVqITIgMUEBaiIxIBJHDQALIA4gPWohDiAIQQFqIgggAUcNAAsLC94DBAR/AXsBfwF9QQQhAkEAIQMCQCABQQRIDQAgAUF8aiIEQQJ2QQFqIgNBA3EhBQJAAkAgBEEMTw0AQQAhAwwBCyADQfz///8HcSEDQQQhAiAAIQQDQCAEIAT9AAAA/QwAAAAAAAAAAAAAAAAAAAAAIgb96QH9CwAAIARBEGoiByAH/QAAACAG/ekB/QsAACAEQSBqIgcgB/0AAAAgBv3pAf0LAAAgBEEwaiIHIAf9AAAAIAb96QH9CwAAIARBwABqIQQgAkEQaiECIANBfGoiAw0ACyACQXxqIQMLIAVFDQADQCAAIANBAnRqIgQgBP0AAAD9DAAAAAAAAAAAAAAAAAAAAAD96QH9CwAAIAIiBEEEaiECIAQhAyAFQX9qIgUNAAsgAkF8aiEDCwJAIAEgA0wNAAJAIAEgA2siBUEDTQ0AIAAgA0ECdGohBCADIAFBA3EiB2ogAWshAiADIAUgB2tqIQMDQCAEIAT9AAIA/QwAAAAAAAAAAAAAAAAAAAAA/esB/QsCACAEQRBqIQQgAkEEaiICDQALIAdFDQELIAEgA2shAiAAIANBAnRqIQQDQCAEQwAAAAAgBCoCACIIIAhDAAAAAF0bOAIAIARBBGohBCACQX9qIgINAAsLC5gJAwR/A3sEfyOAgICAAEEQayECQQAhAwJAIAFBBEgNAEEAIQQgACEFA0AgBf0MAACAPwAAgD8AAIA/AACAPyIGIAYgBiAF/QAAAP3hAf0MAACuwgAArsIAAK7CAACuwv3pAf0MAACwQgAAsEIAALBCAACwQv3oASIH/Qw7qrg/O6q4PzuquD87qrg//eYB/WoiCP0Mg4BeOYOAXjmDgF45g4BeOf3mASAHIAj9DACAMb8AgDG/AIAxvwCAMb/95gH95AH95AEiByAHIAf95gEgByAHIAcgByAH/QxnaVA5Z2lQOWdpUDlnaVA5/eYB/QzOQ7c6zkO3Os5DtzrOQ7c6/eQB/eYB/QwIiQg8CIkIPAiJCDwIiQg8/eQB/eYB/QzBqSo9wakqPcGpKj3BqSo9/eQB/eYB/Qyqqio+qqoqPqqqKj6qqio+/eQB/eYB/QwAAAA/AAAAPwAAAD8AAAA//eQB/eYB/eQB/eQBIAj9+AFBF/2rAf0MAACAPwAAgD8AAIA/AACAP/2uAf3mAf3kAf3nAf0LAAAgBUEQaiEFIARBCGohCSAEQQRqIgMhBCAJIAFMDQALCwJAIAEgA0wNACAC/QwAAAAAAAAAAAAAAAAAAAAA/QsEACADIQoCQAJAIAEgA2siC0EDTQ0AIAAgA0ECdGohBSADIAFBA3EiDGogAWshCSADIAsgDGtqIQogAiEEA0AgBCAF/QACAP0LBAAgBEEQaiEEIAVBEGohBSAJQQRqIgkNAAsgDEUNAQsgAiAKQQJ0IgQgA0ECdGtqIQUgASAKayEJIAAgBGohBANAIAUgBCoCADgCACAEQQRqIQQgBUEEaiEFIAlBf2oiCQ0ACwsgAv0MAACAPwAAgD8AAIA/AACAPyIGIAYgBiAC/QAEAP3hAf0MAACuwgAArsIAAK7CAACuwv3pAf0MAACwQgAAsEIAALBCAACwQv3oASIH/Qw7qrg/O6q4PzuquD87qrg//eYB/WoiCP0Mg4BeOYOAXjmDgF45g4BeOf3mASAHIAj9DACAMb8AgDG/AIAxvwCAMb/95gH95AH95AEiByAHIAf95gEgByAHIAcgByAH/QxnaVA5Z2lQOWdpUDlnaVA5/eYB/QzOQ7c6zkO3Os5DtzrOQ7c6/eQB/eYB/QwIiQg8CIkIPAiJCDwIiQg8/eQB/eYB/QzBqSo9wakqPcGpKj3BqSo9/eQB/eYB/Qyqqio+qqoqPqqqKj6qqio+/eQB/eYB/QwAAAA/AAAAPwAAAD8AAAA//eQB/eYB/eQB/eQBIAj9+AFBF/2rAf0MAACAPwAAgD8AAIA/AACAP/2uAf3mAf3kAf3nAf0LBAAgAyEKAkAgC0EDTQ0AIAAgA0ECdGohBSADIAFBA3EiDGogAWshCSADIAsgDGtqIQogAiEEA0AgBSAE/QAEAP0LAgAgBEEQaiEEIAVBEGohBSAJQQRqIgkNAAsgDEUNAQsgAiAKQQJ0IgQgA0ECdGtqIQUgASAKayEJIAAgBGohBANAIAQgBSoCADgCACAFQQRqIQUgBEEEaiEEIAlBf2oiCQ0ACwsL";
const DECODER_KERNELS_SIMD = "AGFzbQEAAAABJwNgCX9/f39/f39/fwBgEn9/f39/f39/f39/f39/f39/fwBgAn9/AAMFBAABAgIEBQFwAQEBBQMBAAIGDwJ/AUGAiAQLfwBBgIgECwdIBgZtZW1vcnkCAAttYXRtdWxfYmlhcwAADmNvbnZfdHJhbnNwb3NlAAEEcmVsdQACB3NpZ21vaWQAAwtfX2hlYXBfYmFzZQMBCss8BK4dAg1/CXsCQCABQQFIDQACQCACQQFIDQAgAkECdCEJIAJB/v///wdxIQogAkEBcSELQQAhDCAAIQ0DQCAHIAwgAmxBAnQiDmohD0EAIRBBACERAkAgAkEBRg0AQQAhECANIRJBACERA0AgDyARQQJ0aiAQNgIAIA8gESASKgIAQwAAAABcaiIRQQJ0aiAQQQFqNgIAIBEgEkEEaioCAEMAAAAAXGohESASQQhqIRIgEEECaiIQIApHDQALCwJAIAtFDQAgDyARQQJ0aiAQNgIAIBEgACAOaiAQQQJ0aioCAEMAAAAAXGohEQsgCCAMQQJ0aiARNgIAIA0gCWohDSAMQQFqIgwgAUcNAAwCCwtBACERAkAgAUEDTQ0AIAFB/P///wdxIhEhEiAIIRADQCAQ/QwAAAAAAAAAAAAAAAAAAAAA/QsCACAQQRBqIRAgEkF8aiISDQALIBEgAUYNAQsgASARayESIAggEUECdGohEANAIBBBADYCACAQQQRqIRAgEkF/aiISDQALCwJAIARBAUgNACACQQJ0IQ5BACETIAFBAUghFANAIAQgE2siEEEgIBBBIEgbIhAgEEEDakEEbSISQQJ0a0EEaiEMIAYgE0ECdCIQaiENAkACQAJAAkACQAJAAkACQAJAIBJBf2oOBwIDBAUGBwABCyAUDQcgAyAQaiEKIAUgEGohC0EAIQkgByEVA0AgCCAJQQJ0aigCACERAkACQCAFDQD9DAAAAAAAAAAAAAAAAAAAAAAiFiEXIBYhGCAWIRkgFiEaIBYhGyAWIRwMAQsgC/0AAGAhFiAL/QAAUCEXIAv9AABAIRggC/0AADAhGSAL/QAAICEaIAv9AAAQIRsgC/0AAAAhHAsCQCARQQFIDQAgACAJIAJsQQJ0aiEPIBUhEgNAIA8gEigCACIQQQJ0av0JAgAiHSAKIBAgBGxBAnRqIhD9AABg/eYBIBb95AEhFiAdIBD9AABQ/eYBIBf95AEhFyAdIBD9AABA/eYBIBj95AEhGCAdIBD9AAAw/eYBIBn95AEhGSAdIBD9AAAg/eYBIBr95AEhGiAdIBD9AAAQ/eYBIBv95AEhGyAdIBD9AAAA/eYBIBz95AEhHCASQQRqIRIgEUF/aiIRDQALCyANIAkgBGxBAnRqIhAgF/0LAFAgECAY/QsAQCAQIBn9CwAwIBAgGv0LACAgECAb/QsAECAQIBz9CwAAAkACQCAMQQRHDQAgECAW/QsAYAwBCyAQIBb9HwA4AmAgDEECSA0AIBAgFv0fATgCZCAMQQJGDQAgECAW/R8COAJoCyAVIA5qIRUgCUEBaiIJIAFHDQAMCAsLIBQNBiADIBBqIQogBSAQaiEJQQAhCyAHIRUDQCAIIAtBAnRqKAIAIRECQAJAIAUNAP0MAAAAAAAAAAAAAAAAAAAAACIWIRcgFiEYIBYhGSAWIRogFiEbIBYhHCAWIR4MAQsgCf0AAHAhFiAJ/QAAYCEXIAn9AABQIRggCf0AAEAhGSAJ/QAAMCEaIAn9AAAgIRsgCf0AABAhHCAJ/QAAACEeCwJAIBFBAUgNACAAIAsgAmxBAnRqIQ8gFSESA0AgDyASKAIAIhBBAnRq/QkCACIdIAogECAEbEECdGoiEP0AAHD95gEgFv3kASEWIB0gEP0AAGD95gEgF/3kASEXIB0gEP0AAFD95gEgGP3kASEYIB0gEP0AAED95gEgGf3kASEZIB0gEP0AADD95gEgGv3kASEaIB0gEP0AACD95gEgG/3kASEbIB0gEP0AABD95gEgHP3kASEcIB0gEP0AAAD95gEgHv3kASEeIBJBBGohEiARQX9qIhENAAsLIA0gCyAEbEECdGoiECAX/QsAYCAQIBj9CwBQIBAgGf0LAEAgECAa/QsAMCAQIBv9CwAgIBAgHP0LABAgECAe/QsAAAJAAkAgDEEERw0AIBAgFv0LAHAMAQsgECAW/R8AOAJwIAxBAkgNACAQIBb9HwE4AnQgDEECRg0AIBAgFv0fAjgCeAsgFSAOaiEVIAtBAWoiCyABRw0ADAcLCyAUDQUgAyAQaiEKIAUgEGohFUEAIQkgByELA0AgCCAJQQJ0aigCACESAkACQCAFDQD9DAAAAAAAAAAAAAAAAAAAAAAhHQwBCyAV/QAAACEdCwJAIBJBAUgNACAAIAkgAmxBAnRqIQ8gCyEQA0AgHSAKIBAoAgAiESAEbEECdGr9AAAAIA8gEUECdGr9CQIA/eYB/eQBIR0gEEEEaiEQIBJBf2oiEg0ACwsgDSAJIARsQQJ0aiEQAkACQCAMQQRHDQAgECAd/QsAAAwBCyAQIB39HwA4AgAgDEECSA0AIBAgHf0fATgCBCAMQQJGDQAgECAd/R8COAIICyALIA5qIQsgCUEBaiIJIAFHDQAMBgsLIBQNBCADIBBqIQogBSAQaiEVQQAhCSAHIQsDQCAIIAlBAnRqKAIAIRICQAJAIAUNAP0MAAAAAAAAAAAAAAAAAAAAACIdIRYMAQsgFf0AABAhHSAV/QAAACEWCwJAIBJBAUgNACAAIAkgAmxBAnRqIQ8gCyEQA0AgDyAQKAIAIhFBAnRq/QkCACIXIAogESAEbEECdGoiEf0AABD95gEgHf3kASEdIBcgEf0AAAD95gEgFv3kASEWIBBBBGohECASQX9qIhINAAsLIA0gCSAEbEECdGoiECAW/QsAAAJAAkAgDEEERw0AIBAgHf0LABAMAQsgECAd/R8AOAIQIAxBAkgNACAQIB39HwE4AhQgDEECRg0AIBAgHf0fAjgCGAsgCyAOaiELIAlBAWoiCSABRw0ADAULCyAUDQMgAyAQaiEKIAUgEGohFUEAIQkgByELA0AgCCAJQQJ0aigCACERAkACQCAFDQD9DAAAAAAAAAAAAAAAAAAAAAAiFiEXIBYhGAwBCyAV/QAAICEWIBX9AAAQIRcgFf0AAAAhGAsCQCARQQFIDQAgACAJIAJsQQJ0aiEPIAshEANAIA8gECgCACISQQJ0av0JAgAiHSAKIBIgBGxBAnRqIhL9AAAg/eYBIBb95AEhFiAdIBL9AAAQ/eYBIBf95AEhFyAdIBL9AAAA/eYBIBj95AEhGCAQQQRqIRAgEUF/aiIRDQALCyANIAkgBGxBAnRqIhAgF/0LABAgECAY/QsAAAJAAkAgDEEERw0AIBAgFv0LACAMAQsgECAW/R8AOAIgIAxBAkgNACAQIBb9HwE4AiQgDEECRg0AIBAgFv0fAjgCKAsgCyAOaiELIAlBAWoiCSABRw0ADAQLCyAUDQIgAyAQaiEKIAUgEGohFUEAIQkgByELA0AgCCAJQQJ0aigCACERAkACQCAFDQD9DAAAAAAAAAAAAAAAAAAAAAAiFiEXIBYhGCAWIRkMAQsgFf0AADAhFiAV/QAAICEXIBX9AAAQIRggFf0AAAAhGQsCQCARQQFIDQAgACAJIAJsQQJ0aiEPIAshEgNAIA8gEigCACIQQQJ0av0JAgAiHSAKIBAgBGxBAnRqIhD9AAAw/eYBIBb95AEhFiAdIBD9AAAg/eYBIBf95AEhFyAdIBD9AAAQ/eYBIBj95AEhGCAdIBD9AAAA/eYBIBn95AEhGSASQQRqIRIgEUF/aiIRDQALCyANIAkgBGxBAnRqIhAgF/0LACAgECAY/QsAECAQIBn9CwAAAkACQCAMQQRHDQAgECAW/QsAMAwBCyAQIBb9HwA4AjAgDEECSA0AIBAgFv0fATgCNCAMQQJGDQAgECAW/R8COAI4CyALIA5qIQsgCUEBaiIJIAFHDQAMAwsLIBQNASADIBBqIQogBSAQaiELQQAhCSAHIRUDQCAIIAlBAnRqKAIAIRECQAJAIAUNAP0MAAAAAAAAAAAAAAAAAAAAACIWIRcgFiEYIBYhGSAWIRoMAQsgC/0AAEAhFiAL/QAAMCEXIAv9AAAgIRggC/0AABAhGSAL/QAAACEaCwJAIBFBAUgNACAAIAkgAmxBAnRqIQ8gFSESA0AgDyASKAIAIhBBAnRq/QkCACIdIAogECAEbEECdGoiEP0AAED95gEgFv3kASEWIB0gEP0AADD95gEgF/3kASEXIB0gEP0AACD95gEgGP3kASEYIB0gEP0AABD95gEgGf3kASEZIB0gEP0AAAD95gEgGv3kASEaIBJBBGohEiARQX9qIhENAAsLIA0gCSAEbEECdGoiECAX/QsAMCAQIBj9CwAgIBAgGf0LABAgECAa/QsAAAJAAkAgDEEERw0AIBAgFv0LAEAMAQsgECAW/R8AOAJAIAxBAkgNACAQIBb9HwE4AkQgDEECRg0AIBAgFv0fAjgCSAsgFSAOaiEVIAlBAWoiCSABRw0ADAILCyAUDQAgAyAQaiEKIAUgEGohC0EAIQkgByEVA0AgCCAJQQJ0aigCACERAkACQCAFDQD9DAAAAAAAAAAAAAAAAAAAAAAiFiEXIBYhGCAWIRkgFiEaIBYhGwwBCyAL/QAAUCEWIAv9AABAIRcgC/0AADAhGCAL/QAAICEZIAv9AAAQIRogC/0AAAAhGwsCQCARQQFIDQAgACAJIAJsQQJ0aiEPIBUhEgNAIA8gEigCACIQQQJ0av0JAgAiHSAKIBAgBGxBAnRqIhD9AABQ/eYBIBb95AEhFiAdIBD9AABA/eYBIBf95AEhFyAdIBD9AAAw/eYBIBj95AEhGCAdIBD9AAAg/eYBIBn95AEhGSAdIBD9AAAQ/eYBIBr95AEhGiAdIBD9AAAA/eYBIBv95AEhGyASQQRqIRIgEUF/aiIRDQALCyANIAkgBGxBAnRqIhAgF/0LAEAgECAY/QsAMCAQIBn9CwAgIBAgGv0LABAgECAb/QsAAAJAAkAgDEEERw0AIBAgFv0LAFAMAQsgECAW/R8AOAJQIAxBAkgNACAQIBb9HwE4AlQgDEECRg0AIBAgFv0fAjgCWAsgFSAOaiEVIAlBAWoiCSABRw0ACwsgE0EgaiITIARIDQALCwueEgE0fwJAIAFBAUgNACAGIAVsIRIgAyACbCITIARsIRQgCCAHbCIVIAhsIRYCQCACQQFIDQAgEiAHbCEXIANBAUggCEEBSHIhGCASQQFIIAdBAUgiGXIhGkEAIAtrIRsgB0EDcSEcIAdB/P///wdxIR0gB0ECdCEeIA4gDWshHyAHIAZsIiBBAnQhISAJIAdsIiJBAnQhIyAVQQJ0ISQgIiAGbEECdCElIBZBAnQhJiAgIAVsQQJ0IScgFiADbEECdCEoIAdBfGoiFUECdkEBaiIgQfz///8HcSEpICBBA3EhKiAOIAdBACAKIAZsIAtqa2xBAnRqISsgB0EESCEsIBVBDEkhLSAOIS5BACEvA0AgACAUIC9sQQJ0aiATIAQgDCAWQQAgDyAQIBEQgICAgAACQCAaDQAgHyAnIC9saiEwQQAhMSAuITIDQEEAISICQAJAIAdBBEkNAEEAISIgMCAeIDFsakEQSQ0AIB0hIiAyIRUgDSEgA0AgFSAg/QACAP0LAgAgFUEQaiEVICBBEGohICAiQXxqIiINAAsgHSEiIB0gB0YNAQsgIiEzAkAgHEUNACAcICJqITMgIkECdCEVIBwhIANAIDIgFWogDSAVaioCADgCACAVQQRqIRUgIEF/aiIgDQALCyAiIAdrQXxLDQAgM0ECdCEVIAcgM2shMwNAIDIgFWoiICANIBVqIiIqAgA4AgAgIEEEaiAiQQRqKgIAOAIAICBBCGogIkEIaioCADgCACAgQQxqICJBDGoqAgA4AgAgFUEQaiEVIDNBfGoiMw0ACwsgMiAeaiEyIDFBAWoiMSASRw0ACwsCQCAYDQACQCAsDQAgDiAXIC9sQQJ0aiE0QQAhNSArITYgDyE3A0AgNSADbCE4IDUgCWwgCmshOSA2ITogNyE7QQAhPANAIDwgCWwgC2shPSAPIDwgOGogFmxBAnRqIT5BACE/IDohQCA7IUEDQAJAIDkgP2oiFUEASA0AIBUgBU4NACA/IAhsIUIgFSAGbCFDQQAhRCBAITEgQSEwA0ACQCA9IERqIkVBAEgNACBFIAZODQACQAJAIC1FDQBBACEVQQQhIgwBC0EEISIgKSEyIDEhFSAwISADQCAVIBX9AAAAICD9AAAA/eQB/QsAACAVQRBqIjMgM/0AAAAgIEEQav0AAAD95AH9CwAAIBVBIGoiMyAz/QAAACAgQSBq/QAAAP3kAf0LAAAgFUEwaiIzIDP9AAAAICBBMGr9AAAA/eQB/QsAACAVQcAAaiEVICBBwABqISAgIkEQaiEiIDJBfGoiMg0ACyAiQXxqIRULAkAgKkUNACA+IEQgQmogB2xBAnRqITMgNCBFIENqIAdsQQJ0aiFFICohIANAIEUgFUECdCIVaiIyIDL9AAAAIDMgFWr9AAAA/eQB/QsAACAiIhVBBGohIiAVIRUgIEF/aiIgDQALICJBfGohFQsgFSAHTg0AIBUhMwJAIAcgFWtBA3EiIkUNACAVICJqITMgFUECdCEgA0AgMSAgaiIyIDAgIGoqAgAgMioCAJI4AgAgIEEEaiEgICJBf2oiIg0ACwsgFSAHa0F8Sw0AIDNBAnQhICAHIDNrITIDQCAxICBqIhUgMCAgaiIiKgIAIBUqAgCSOAIAIBVBBGoiMyAiQQRqKgIAIDMqAgCSOAIAIBVBCGoiMyAiQQhqKgIAIDMqAgCSOAIAIBVBDGoiFSAiQQxqKgIAIBUqAgCSOAIAICBBEGohICAyQXxqIjINAAsLIDEgHmohMSAwIB5qITAgREEBaiJEIAhHDQALCyBAICFqIUAgQSAkaiFBID9BAWoiPyAIRw0ACyA6ICNqITogOyAmaiE7IDxBAWoiPCADRw0ACyA2ICVqITYgNyAoaiE3IDVBAWoiNSACRg0CDAALCyAZDQBBACE/IA8hQCArIUEDQCA/IAlsIAprIT0gQCFDIEEhPiAbIUJBACE0A0BBACFEIEMhMSA+ITADQAJAID0gRGoiFUEASA0AIBUgBU4NAEEAISAgQiEVIAghIgNAAkAgFUEASA0AIBUgBk4NACAwICBqIjIgMSAgaiIzKgIAIDIqAgCSOAIAIAdBAUYNACAyQQRqIkUgM0EEaioCACBFKgIAkjgCACAHQQJGDQAgMkEIaiIyIDNBCGoqAgAgMioCAJI4AgALICAgHmohICAVQQFqIRUgIkF/aiIiDQALCyAxICRqITEgMCAhaiEwIERBAWoiRCAIRw0ACyBDICZqIUMgPiAjaiE+IEIgCWohQiA0QQFqIjQgA0cNAAsgQCAoaiFAIEEgJWohQSA/QQFqIj8gAkcNAAsLICsgJ2ohKyAuICdqIS4gL0EBaiIvIAFHDQAMAgsLAkAgEkEASg0AIAQgA2wgAmxBAnQhFQNAIAAgEyAEIAwgFkEAIA8gECAREICAgIAAIAAgFWohACABQX9qIgENAAwCCwsCQCAHQQBKDQAgBCADbCACbEECdCEVA0AgACATIAQgDCAWQQAgDyAQIBEQgICAgAAgACAVaiEAIAFBf2oiAQ0ADAILCyAHQQNxITAgB0H8////B3EhHiAHQQJ0IUUgDiANayEqIAcgBmwgBWxBAnQhPSAHQQRJIURBACEIA0AgACAUIAhsQQJ0aiATIAQgDCAWQQAgDyAQIBEQgICAgAAgKiA9IAhsaiEGIA4hMkEAITEDQEEAISICQAJAIEQNACAGIEUgMWxqQRBJDQAgHiEiIDIhFSANISADQCAVICD9AAIA/QsCACAVQRBqIRUgIEEQaiEgICJBfGoiIg0ACyAeISIgHiAHRg0BCyAiITMCQCAwRQ0AIDAgImohMyAiQQJ0IRUgMCEgA0AgMiAVaiANIBVqKgIAOAIAIBVBBGohFSAgQX9qIiANAAsLICIgB2tBfEsNACAzQQJ0IRUgByAzayEzA0AgMiAVaiIgIA0gFWoiIioCADgCACAgQQRqICJBBGoqAgA4AgAgIEEIaiAiQQhqKgIAOAIAICBBDGogIkEMaioCADgCACAVQRBqIRUgM0F8aiIzDQALCyAyIEVqITIgMUEBaiIxIBJHDQALIA4gPWohDiAIQQFqIgggAUcNAAsLC94DBAR/AXsBfwF9QQQhAkEAIQMCQCABQQRIDQAgAUF8aiIEQQJ2QQFqIgNBA3EhBQJAAkAgBEEMTw0AQQAhAwwBCyADQfz///8HcSEDQQQhAiAAIQQDQCAEIAT9AAAA/QwAAAAAAAAAAAAAAAAAAAAAIgb96QH9CwAAIARBEGoiByAH/QAAACAG/ekB/QsAACAEQSBqIgcgB/0AAAAgBv3pAf0LAAAgBEEwaiIHIAf9AAAAIAb96QH9CwAAIARBwABqIQQgAkEQaiECIANBfGoiAw0ACyACQXxqIQMLIAVFDQADQCAAIANBAnRqIgQgBP0AAAD9DAAAAAAAAAAAAAAAAAAAAAD96QH9CwAAIAIiBEEEaiECIAQhAyAFQX9qIgUNAAsgAkF8aiEDCwJAIAEgA0wNAAJAIAEgA2siBUEDTQ0AIAAgA0ECdGohBCADIAFBA3EiB2ogAWshAiADIAUgB2tqIQMDQCAEIAT9AAIA/QwAAAAAAAAAAAAAAAAAAAAA/esB/QsCACAEQRBqIQQgAkEEaiICDQALIAdFDQELIAEgA2shAiAAIANBAnRqIQQDQCAEQwAAAAAgBCoCACIIIAhDAAAAAF0bOAIAIARBBGohBCACQX9qIgINAAsLC5gJAwR/A3sEfyOAgICAAEEQayECQQAhAwJAIAFBBEgNAEEAIQQgACEFA0AgBf0MAACAPwAAgD8AAIA/AACAPyIGIAYgBiAF/QAAAP3hAf0MAACuwgAArsIAAK7CAACuwv3pAf0MAACwQgAAsEIAALBCAACwQv3oASIH/Qw7qrg/O6q4PzuquD87qrg//eYB/WoiCP0Mg4BeOYOAXjmDgF45g4BeOf3mASAHIAj9DACAMb8AgDG/AIAxvwCAMb/95gH95AH95AEiByAHIAf95gEgByAHIAcgByAH/QxnaVA5Z2lQOWdpUDlnaVA5/eYB/QzOQ7c6zkO3Os5DtzrOQ7c6/eQB/eYB/QwIiQg8CIkIPAiJCDwIiQg8/eQB/eYB/QzBqSo9wakqPcGpKj3BqSo9/eQB/eYB/Qyqqio+qqoqPqqqKj6qqio+/eQB/eYB/QwAAAA/AAAAPwAAAD8AAAA//eQB/eYB/eQB/eQBIAj9+AFBF/2rAf0MAACAPwAAgD8AAIA/AACAP/2uAf3mAf3kAf3nAf0LAAAgBUEQaiEFIARBCGohCSAEQQRqIgMhBCAJIAFMDQALCwJAIAEgA0wNACAC/QwAAAAAAAAAAAAAAAAAAAAA/QsEACADIQoCQAJAIAEgA2siC0EDTQ0AIAAgA0ECdGohBSADIAFBA3EiDGogAWshCSADIAsgDGtqIQogAiEEA0AgBCAF/QACAP0LBAAgBEEQaiEEIAVBEGohBSAJQQRqIgkNAAsgDEUNAQsgAiAKQQJ0IgQgA0ECdGtqIQUgASAKayEJIAAgBGohBANAIAUgBCoCADgCACAEQQRqIQQgBUEEaiEFIAlBf2oiCQ0ACwsgAv0MAACAPwAAgD8AAIA/AACAPyIGIAYgBiAC/QAEAP3hAf0MAACuwgAArsIAAK7CAACuwv3pAf0MAACwQgAAsEIAALBCAACwQv3oASIH/Qw7qrg/O6q4PzuquD87qrg//eYB/WoiCP0Mg4BeOYOAXjmDgF45g4BeOf3mASAHIAj9DACAMb8AgDG/AIAxvwCAMb/95gH95AH95AEiByAHIAf95gEgByAHIAcgByAH/QxnaVA5Z2lQOWdpUDlnaVA5/eYB/QzOQ7c6zkO3Os5DtzrOQ7c6/eQB/eYB/QwIiQg8CIkIPAiJCDwIiQg8/eQB/eYB/QzBqSo9wakqPcGpKj3BqSo9/eQB/eYB/Qyqqio+qqoqPqqqKj6qqio+/eQB/eYB/QwAAAA/AAAAPwAAAD8AAAA//eQB/eYB/eQB/eQBIAj9+AFBF/2rAf0MAACAPwAAgD8AAIA/AACAP/2uAf3mAf3kAf3nAf0LBAAgAyEKAkAgC0EDTQ0AIAAgA0ECdGohBSADIAFBA3EiDGogAWshCSADIAsgDGtqIQogAiEEA0AgBSAE/QAEAP0LAgAgBEEQaiEEIAVBEGohBSAJQQRqIgkNAAsgDEUNAQsgAiAKQQJ0IgQgA0ECdGtqIQUgASAKayEJIAAgBGohBANAIAQgBSoCADgCACAFQQRqIQUgBEEEaiEEIAlBf2oiCQ0ACwsL";
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
    buffers.push(["nz", Int32Array, rows * layer.nIn], ["counts", Int32Array, rows]);
  } else {
    const [h, w, cIn] = layer.inShape, pixels = h * w;
    buffers.push(["cols", Float32Array, pixels * layer.k * layer.k * layer.outShape[2]],
                 ["nz", Int32Array, pixels * cIn], ["counts", Int32Array, pixels]);
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
                              out.byteOffset, nz.byteOffset, counts.byteOffset);
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
      counts.byteOffset);
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
