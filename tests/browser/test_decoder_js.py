"""vaeapp/web/decoder.js in real Chromium: the same pixels as the NumPy decoder
for dense and conv models of grey and colour images of several shapes, clear
errors for malformed layers, a conv decode fast enough for live previews, and
toImageData drawing grey and RGB images.

decoder.js is loaded into a blank page (no app server); the models are small
ones with random weights written in the Keras weights-file layout, read back by
the NumPy path, and packed by ``browser_assets.pack_decoder``.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest

if not Path("/usr/bin/chromium").exists():
    pytest.skip("Chromium not found at /usr/bin/chromium", allow_module_level=True)
pytest.importorskip(
    "playwright.sync_api", reason="the playwright package is not installed"
)

from devtools.weights import write_random_weights  # noqa: E402
from vaeapp.core.config import ModelConfig  # noqa: E402
from vaeapp.inference.numpy_vae import NumpyVAE, load_numpy_vae  # noqa: E402
from vaeapp.web import files
from vaeapp.web.assets import (  # noqa: E402
    as_browser_decodes,
    pack_decoder,
    pack_decoder_file,
)

DECODER_JS = files.DECODER_JS
SMALL_DENSE = ModelConfig(hidden=(64, 32), latent_dim=3)
SMALL_CONV = ModelConfig(
    architecture="conv", filters=(8, 16), hidden=(32,), latent_dim=3
)


def small_model(shape: tuple[int, int, int], architecture: str) -> ModelConfig:
    if architecture == "conv":
        return ModelConfig(
            architecture="conv",
            filters=(8, 16),
            hidden=(32,),
            latent_dim=3,
            image_shape=shape,
        )
    return ModelConfig(hidden=(64, 32), latent_dim=3, image_shape=shape)


SHAPED_MODELS = {
    "28x28x1-dense": small_model((28, 28, 1), "dense"),
    "32x32x3-dense": small_model((32, 32, 3), "dense"),
    "16x24x1-dense": small_model((16, 24, 1), "dense"),
    "20x12x3-conv": small_model((20, 12, 3), "conv"),
    "32x32x3-conv": small_model((32, 32, 3), "conv"),
    "64x64x3-conv": small_model((64, 64, 3), "conv"),
    "8x64x1-conv": small_model((8, 64, 1), "conv"),
    "32x32x3-conv-preset": ModelConfig.preset("conv", image_shape=(32, 32, 3)),
    "64x64x3-conv-preset": ModelConfig.preset("conv", image_shape=(64, 64, 3)),
}

_JS_DECODE = """([layers, zs]) => {
  const model = { layers: unpackDecoder(layers) };
  return zs.map((z) => Array.from(decode(model, z)));
}"""

_JS_ERROR = """(layers) => {
  try {
    unpackDecoder(layers);
    return null;
  } catch (error) {
    return String(error.message);
  }
}"""


def random_model(folder: Path, config: ModelConfig, seed: int) -> NumpyVAE:
    """A model of ``config`` with random He-scaled weights, through the
    weights-file reader (:func:`devtools.weights.write_random_weights`)."""
    path = folder / f"random-{seed}.weights.h5"
    write_random_weights(path, config, np.random.default_rng(seed))
    return load_numpy_vae(path, config)


@pytest.fixture(scope="module")
def blank_page(browser: Any) -> Iterator[Any]:
    """A blank Chromium page with decoder.js loaded; ``page.errors`` collects
    uncaught JavaScript errors."""
    context = browser.new_context()
    page = context.new_page()
    page.errors = []
    page.on("pageerror", lambda error: page.errors.append(str(error)))
    page.set_content("<!doctype html><title>decoder.js</title><body></body>")
    page.add_script_tag(content=DECODER_JS.read_text(encoding="utf-8"))
    try:
        yield page
    finally:
        context.close()


@pytest.mark.parametrize("config", [SMALL_DENSE, SMALL_CONV], ids=["dense", "conv"])
def test_js_decode_matches_numpy(blank_page, tmp_path, config):
    """Browser decode() equals NumPy: float16 kernels within 1e-5, float32 0.01."""
    vae = random_model(tmp_path, config, seed=1)
    z = np.random.default_rng(2).normal(0, 1.5, (24, config.latent_dim))
    z = z.astype(np.float32)
    got = np.array(blank_page.evaluate(_JS_DECODE, [pack_decoder(vae), z.tolist()]))
    want = vae.decode(z)
    assert got.shape == (24, 784)
    assert want.std() > 0.1  # pixels that really vary, not all near 0.5
    assert np.abs(got - as_browser_decodes(vae).decode(z)).max() < 1e-5
    assert np.abs(got - want).max() < 0.01
    assert blank_page.errors == []


@pytest.mark.parametrize("name", list(SHAPED_MODELS))
def test_js_decode_matches_numpy_for_every_image_shape(blank_page, tmp_path, name):
    """Browser decode() of grey and colour models of any H x W x C gives NumPy's
    H*W*C values: float16 kernels within 1e-5, float32 ones within 0.01."""
    config = SHAPED_MODELS[name]
    vae = random_model(tmp_path, config, seed=11)
    z = np.random.default_rng(12).normal(0, 1.5, (6, config.latent_dim))
    z = z.astype(np.float32)
    got = np.array(blank_page.evaluate(_JS_DECODE, [pack_decoder(vae), z.tolist()]))
    want = vae.decode(z)
    assert got.shape == (6, config.n_pixels)
    assert want.std() > 0.1  # pixels that really vary, not all near 0.5
    assert np.abs(got - as_browser_decodes(vae).decode(z)).max() < 1e-5
    assert np.abs(got - want).max() < 0.01
    assert blank_page.errors == []


# One batch, then each z alone, on the kernels of one variant: the batch
# crosses the decoder's chunks of images, and the single decodes reuse the
# buffers the batch grew. Returns whether the layers ran on WebAssembly.
_JS_BATCH = """([layers, zs, variant]) => {
  const saved = decoderKernels;
  if (variant === "simd") {
    decoderKernels = new WebAssembly.Module(fromB64(DECODER_KERNELS_SIMD, Uint8Array));
  }
  try {
    const model = { layers: unpackDecoder(layers, null, variant !== "js") };
    const batch = Array.from(decodeBatch(model, zs));
    const single = zs.map((z) => Array.from(decode(model, z)));
    return [batch, single, decodeBatch(model, []).length, !!model.layers[0].kernels,
            WebAssembly.validate(fromB64(DECODER_KERNELS_RELAXED, Uint8Array))];
  } finally {
    decoderKernels = saved;
  }
}"""


@pytest.mark.parametrize("variant", ["relaxed", "simd", "js"])
@pytest.mark.parametrize(
    "name", ["28x28x1-dense", "32x32x3-conv", "8x64x1-conv"], ids=str
)
def test_js_batch_decode_equals_single_decodes(blank_page, tmp_path, name, variant):
    """decodeBatch of 70 z gives, image by image, exactly decode's values, and
    NumPy's within 1e-5: on the relaxed-SIMD and the SIMD WebAssembly kernels
    and in plain JavaScript."""
    config = SHAPED_MODELS[name]
    vae = random_model(tmp_path, config, seed=21)
    z = np.random.default_rng(22).normal(0, 1.5, (70, config.latent_dim))
    batch, single, empty, on_kernels, relaxed = blank_page.evaluate(
        _JS_BATCH, [pack_decoder(vae), z.astype(np.float32).tolist(), variant]
    )
    batch = np.array(batch, np.float32).reshape(70, config.n_pixels)
    np.testing.assert_array_equal(batch, np.array(single, np.float32))
    assert np.abs(batch - as_browser_decodes(vae).decode(z)).max() < 1e-5
    assert empty == 0
    assert on_kernels == (variant != "js") and relaxed  # Chromium runs both
    assert blank_page.errors == []


_JS_IMAGE_DATA = """([pixels, shape]) => {
  const image = toImageData(Float32Array.from(pixels), shape);
  const again = toImageData(Float32Array.from(pixels), shape, image);
  return [image.width, image.height, Array.from(image.data), again === image];
}"""


@pytest.mark.parametrize("shape", [(3, 5, 1), (4, 2, 3)], ids=["grey", "rgb"])
def test_js_to_image_data_draws_grey_and_colour(blank_page, shape):
    """toImageData gives RGBA rows of W pixels: grey repeated in R, G and B, RGB
    from each pixel's three values, alpha 255, 255 v rounded (NaN black), like
    images.to_uint8; a given ImageData of the same size is reused."""
    from vaeapp.explore.images import to_uint8

    h, w, c = shape
    pixels = np.random.default_rng(13).random(h * w * c).astype(np.float32)
    pixels[:4] = [0.0, 1.0, 1.5, -0.2]
    width, height, data, reused = blank_page.evaluate(
        _JS_IMAGE_DATA, [pixels.tolist(), list(shape)]
    )
    assert (width, height, reused) == (w, h, True)
    rgba = np.array(data, np.uint8).reshape(h, w, 4)
    expected = to_uint8(pixels).reshape(h, w, c)
    np.testing.assert_array_equal(rgba[..., :3], np.broadcast_to(expected, (h, w, 3)))
    assert (rgba[..., 3] == 255).all()


def test_js_to_image_data_refuses_a_wrong_value_count(blank_page):
    """toImageData throws when the values do not fill H x W x C."""
    error = blank_page.evaluate(
        """() => { try { toImageData(new Float32Array(10), [2, 2, 3]); }
                   catch (e) { return e.message; } return null; }"""
    )
    assert error is not None and "2x2x3 needs 12 values, got 10" in error


@pytest.mark.parametrize(
    ("index", "change", "message"),
    [
        (
            0,
            {"kind": "pool"},
            "decoder layer 0: kind must be dense, reshape or conv_transpose, got pool",
        ),
        (0, {"n_in": 5}, "kernel has 96 values, expected 160"),
        (-1, {"activation": "tanh"}, "activation must be one of relu, sigmoid"),
        (
            2,
            {"shape": [7, 7, 8]},
            "decoder layer 2 (reshape) takes 392 values but the layer before gives 784",
        ),
    ],
)
def test_js_unpack_refuses_malformed_layers(
    blank_page, tmp_path, index, change, message
):
    """unpackDecoder throws an Error naming the layer and what does not fit."""
    packed = pack_decoder(random_model(tmp_path, SMALL_CONV, seed=3))
    assert packed[2]["kind"] == "reshape" and packed[0]["n_in"] == 3
    packed[index] = {**packed[index], **change}
    error = blank_page.evaluate(_JS_ERROR, packed)
    assert error is not None and message in error


_JS_HALVES = """() => {
  const bits = new Uint16Array(65536).map((_, i) => i);
  const native = Array.from(halfToFloat(bits));
  const saved = window.Float16Array;
  window.Float16Array = undefined;  // the fallback loop, for older browsers
  try {
    return [native, Array.from(halfToFloat(bits))];
  } finally {
    window.Float16Array = saved;
  }
}"""


def test_js_half_floats_match_numpy_with_and_without_float16array(blank_page):
    """halfToFloat gives NumPy's float16 values for all 65,536 bit patterns."""
    native, fallback = blank_page.evaluate(_JS_HALVES)
    expected = np.arange(65536, dtype=np.uint16).view(np.float16).astype(np.float32)
    for got in (native, fallback):
        np.testing.assert_array_equal(np.array(got, dtype=np.float32), expected)


_JS_DECODE_FILE = """([layers, bytes, z]) => {
  const buffer = new Uint8Array(bytes).buffer;
  const model = { layers: unpackDecoder(layers, buffer) };
  return Array.from(decode(model, z));
}"""


@pytest.mark.parametrize("config", [SMALL_DENSE, SMALL_CONV], ids=["dense", "conv"])
def test_js_decode_from_binary_file_equals_base64_decode(blank_page, tmp_path, config):
    """Layers read from the decoder's binary file decode exactly as from base64."""
    vae = random_model(tmp_path, config, seed=5)
    meta, blob = pack_decoder_file(vae)
    z = [0.3, -1.2, 0.7]
    got = blank_page.evaluate(_JS_DECODE_FILE, [meta, list(blob), z])
    want = blank_page.evaluate(_JS_DECODE, [pack_decoder(vae), [z]])[0]
    assert got == want
    assert blank_page.errors == []
