"""Unit tests of what the browser receives to decode live."""

from __future__ import annotations

import base64

import numpy as np

from vaeapp.inference.numpy_vae import sigmoid
from vaeapp.store.format import PRETRAINED_DIR
from vaeapp.store.listing import best_pretrained
from vaeapp.store.reading import load_model
from vaeapp.ui.static_files import content_name, write_atomically
from vaeapp.web.assets import as_browser_decodes, pack_model, pack_model_files


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
    """as_browser_decodes rounds a float32 folder's decoder kernels to float16
    (biases stay float32); a float16 folder's decoder is the browser's as is."""
    half = load_model(PRETRAINED_DIR / "mnist-wide").vae
    for layer, seen_layer in zip(
        (*half.decoder_hidden, half.logits_head),
        (
            *as_browser_decodes(half).decoder_hidden,
            as_browser_decodes(half).logits_head,
        ),
        strict=True,
    ):
        assert np.array_equal(seen_layer.kernel, layer.kernel)
    vae = load_model(PRETRAINED_DIR / "mnist-deep").vae
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


def test_model_files_hold_the_same_arrays_as_the_base64_assets() -> None:
    """pack_model_files' blobs hold pack_model's arrays at 8-aligned offsets."""
    model = load_model(best_pretrained())
    points = model.latent_mean[:, :2].astype(np.float32)
    inline, files = pack_model(model, points), pack_model_files(model, points)

    def chunk(blob: bytes, ref: list[int], itemsize: int) -> bytes:
        offset, count = ref
        assert offset % 8 == 0
        return blob[offset : offset + count * itemsize]

    for a, b in zip(inline["layers"], files.meta["layers"], strict=True):
        assert base64.b64decode(a["w16"]) == chunk(files.decoder_blob, b["w16"], 2)
        assert base64.b64decode(a["b"]) == chunk(files.decoder_blob, b["b"], 4)
    assert base64.b64decode(inline["points"]) == chunk(
        files.points_blob, files.meta["points"], 4
    )
    assert base64.b64decode(inline["labels"]) == chunk(
        files.points_blob, files.meta["labels"], 1
    )
    assert files.meta["count"] == inline["count"]
    assert files.meta["names"] == inline["names"]


def test_static_file_names_change_with_their_content() -> None:
    """A published file is named by a hash of its bytes: new bytes, new URL."""
    assert content_name("plotly", b"a", "js") == content_name("plotly", b"a", "js")
    assert content_name("plotly", b"a", "js") != content_name("plotly", b"b", "js")
    assert content_name("points", b"a", "bin").startswith("points.")


def test_static_files_are_written_whole_with_the_given_date(tmp_path) -> None:
    """write_atomically leaves only the final file, with the mtime it was given."""
    path = tmp_path / "static" / "x.bin"
    write_atomically(path, b"payload", mtime=946_684_800)
    assert path.read_bytes() == b"payload"
    assert path.stat().st_mtime == 946_684_800
    assert [p.name for p in path.parent.iterdir()] == ["x.bin"]


def test_packed_model_carries_the_image_shape_and_class_names() -> None:
    """pack_model and pack_model_files give image_shape [H, W, C] and the names."""
    model = load_model(best_pretrained())
    points = model.latent_mean[:, :2].astype(np.float32)
    for meta in (pack_model(model, points), pack_model_files(model, points).meta):
        assert meta["image_shape"] == [28, 28, 1]
        assert meta["names"] == list(model.class_names)
        assert len(meta["names"]) == 10


def test_packed_colour_model_carries_its_shape_and_decodes_flat_rgb(tmp_path) -> None:
    """A 20x12 RGB conv model packs image_shape [20, 12, 3]; its last layer gives
    20*12*3 values and no names when the data had no labels."""
    import dataclasses

    import h5py

    from vaeapp.core.config import ModelConfig
    from vaeapp.inference.numpy_vae import load_numpy_vae
    from vaeapp.model.layout import decoder_layers, encoder_layers

    config = ModelConfig(
        architecture="conv", filters=(4, 8), hidden=(16,), image_shape=(20, 12, 3)
    )
    rng = np.random.default_rng(0)
    path = tmp_path / "m.weights.h5"
    with h5py.File(path, "w") as handle:
        for spec in encoder_layers(config) + decoder_layers(config):
            handle[f"{spec.path}/vars/0"] = rng.normal(0, 0.3, spec.kernel_shape)
            handle[f"{spec.path}/vars/1"] = rng.normal(0, 0.1, spec.bias_shape)
    shipped = load_model(best_pretrained())
    record = dataclasses.replace(shipped.record, model=config, class_names=None)
    model = dataclasses.replace(
        shipped, record=record, vae=load_numpy_vae(path, config)
    )
    points = np.zeros((5, 2), np.float32)
    for meta in (pack_model(model, points), pack_model_files(model, points).meta):
        assert meta["image_shape"] == [20, 12, 3]
        assert meta["names"] == []
        assert meta["layers"][-1]["out_shape"] == [20, 12, 3]
        assert meta["layers"][-1]["n_out"] == 720
