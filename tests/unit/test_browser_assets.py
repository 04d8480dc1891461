"""Unit tests of what the browser receives to decode live."""

from __future__ import annotations

import base64

import numpy as np

from vaeapp.browser_assets import as_browser_decodes, pack_model
from vaeapp.inference import sigmoid
from vaeapp.store import best_pretrained, load_model


def _decode_like_the_browser(packed: dict, z: np.ndarray) -> np.ndarray:
    h = z.astype(np.float32)
    layers = packed["layers"]
    for k, layer in enumerate(layers):
        w = np.frombuffer(base64.b64decode(layer["w16"]), "<f2").astype(np.float32)
        b = np.frombuffer(base64.b64decode(layer["b"]), "<f4")
        h = h @ w.reshape(layer["n_in"], layer["n_out"]) + b
        h = sigmoid(h) if k == len(layers) - 1 else np.maximum(h, 0)
    return h


def test_float16_weights_decode_within_a_few_thousandths() -> None:
    """The browser's float16 decoder matches the float32 one to 0.01 per pixel."""
    model = load_model(best_pretrained())
    packed = pack_model(model, model.latent_mean[:, :2])
    z = np.random.default_rng(0).normal(size=(200, 2)).astype(np.float32) * 2
    difference = np.abs(_decode_like_the_browser(packed, z) - model.vae.decode(z))
    assert difference.max() < 0.01
    assert packed["count"] == model.labels.shape[0]
    points = np.frombuffer(base64.b64decode(packed["points"]), "<f4").reshape(-1, 2)
    np.testing.assert_array_equal(points, model.latent_mean[:, :2])


def test_browser_decoder_rounds_only_decoder_kernels_to_float16() -> None:
    """as_browser_decodes rounds decoder kernels to float16; biases stay float32."""
    vae = load_model(best_pretrained()).vae
    seen = as_browser_decodes(vae)
    for before, after in zip(
        (*vae.decoder_hidden, vae.logits_head),
        (*seen.decoder_hidden, seen.logits_head),
        strict=True,
    ):
        assert np.array_equal(
            after.kernel, before.kernel.astype(np.float16).astype(np.float32)
        )
        assert not np.array_equal(after.kernel, before.kernel)
        assert np.array_equal(after.bias, before.bias)
    assert seen.encoder_hidden is vae.encoder_hidden
