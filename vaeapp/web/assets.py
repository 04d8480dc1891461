"""What the browser needs to draw the latent map and decode live, packed small.

Arrays are little-endian float32 (or uint8) bytes, kernels float16: a few
hundred kB for the tutorial decoder instead of megabytes of JSON numbers. They
travel either as binary files the browser fetches and caches
(:func:`pack_model_files`: one blob for the decoder, one for the map points,
each array referenced by ``[byte offset, count]``) or, without static serving,
as base64 inside the component's JSON (:func:`pack_model`).
``vaeapp/web/decoder.js`` unpacks and runs the decoder layers.
"""

from __future__ import annotations

import base64
import dataclasses
import hashlib
from typing import Any

import numpy as np

from vaeapp.inference.numpy_vae import ConvTranspose2D, Dense, NumpyVAE
from vaeapp.store.records import LoadedModel


def b64(array: np.ndarray, dtype: str = "<f4") -> str:
    """Base64 of ``array`` as contiguous bytes of ``dtype``."""
    return base64.b64encode(np.ascontiguousarray(array, dtype=dtype).tobytes()).decode()


def model_token(model: LoadedModel) -> str:
    """A short id that changes whenever the model's files would."""
    record = model.record
    key = f"{record.path}|{record.test_neg_elbo}|{record.epochs_trained}"
    return hashlib.sha1(key.encode()).hexdigest()[:12]


def pack_decoder(vae: NumpyVAE) -> list[dict[str, Any]]:
    """The decoder's layers as JSON-ready dicts for ``vaeapp/web/decoder.js``.

    Each layer has a ``"kind"``; the layers with weights also carry ``"n_in"``
    and ``"n_out"`` (flat sizes), ``"w16"`` (the kernel as base64 float16),
    ``"b"`` (the bias as base64 float32) and ``"activation"`` (``"relu"``, or
    ``"sigmoid"`` on the last layer, which turns logits into pixel means):

    - ``"dense"``: ``w16`` is the row-major ``(n_in, n_out)`` kernel;
    - ``"reshape"``: ``{"shape": [h, w, c]}``, no weights; the flat values are
      already a channels-last ``(h, w, c)`` map, so it only names the shape;
    - ``"conv_transpose"``: ``"in_shape"`` ``[h, w, c_in]``, ``"out_shape"``
      ``[h_out, w_out, c_out]``, ``"kernel"`` (side k), ``"stride"`` and
      ``"pad"`` ``[top, left]`` (rows and columns cropped from the start of the
      full ``(h - 1) * stride + k`` output); ``w16`` is the kernel row-major as
      ``(c_in, k, k, c_out)``, so each input channel's taps are contiguous.
    """
    # Kernels travel as float16, half the bytes; the tests bound the live
    # preview's difference from the float32 server decode at 0.01 per pixel.
    layers = vae.decoder_layers()
    packed: list[dict[str, Any]] = []
    for k, layer in enumerate(layers):
        activation = "sigmoid" if k == len(layers) - 1 else "relu"
        if isinstance(layer, ConvTranspose2D):
            spec = layer.spec
            if not packed or packed[-1]["kind"] != "conv_transpose":
                packed.append({"kind": "reshape", "shape": list(spec.in_shape)})
            packed.append(
                {
                    "kind": "conv_transpose",
                    "n_in": spec.n_in,
                    "n_out": spec.n_out,
                    "in_shape": list(spec.in_shape),
                    "out_shape": list(spec.out_shape),
                    "kernel": int(layer.kernel.shape[0]),
                    "stride": spec.stride,
                    "pad": list(spec.pad),
                    "w16": b64(layer.kernel.transpose(3, 0, 1, 2), "<f2"),
                    "b": b64(layer.bias),
                    "activation": activation,
                }
            )
        elif isinstance(layer, Dense):
            packed.append(
                {
                    "kind": "dense",
                    "n_in": int(layer.kernel.shape[0]),
                    "n_out": int(layer.kernel.shape[1]),
                    "w16": b64(layer.kernel, "<f2"),
                    "b": b64(layer.bias),
                    "activation": activation,
                }
            )
        else:
            raise ValueError(
                f"cannot pack a {type(layer).__name__} decoder layer for the "
                "browser; allowed: Dense, ConvTranspose2D"
            )
    return packed


def as_browser_decodes(vae: NumpyVAE) -> NumpyVAE:
    """``vae`` with its decoder kernels rounded to float16, as
    :func:`pack_decoder` sends them: the decoder the browser computes with."""

    def rounded(layer: Any) -> Any:
        kernel = layer.kernel.astype(np.float16).astype(np.float32)
        return dataclasses.replace(layer, kernel=kernel)

    return dataclasses.replace(
        vae,
        decoder_hidden=tuple(rounded(layer) for layer in vae.decoder_hidden),
        logits_head=rounded(vae.logits_head),
    )


# The anchors of a stored plane for the browser's rules (plane_rules.js): the
# held-out rows they are (None: every point, in order) and their latent
# means (m, latent_dim); see vaeapp.explore.projection.StoredPlane.anchors.
Anchors = tuple[np.ndarray | None, np.ndarray]


def pack_model(
    model: LoadedModel, points: np.ndarray, anchors: Anchors | None = None
) -> dict[str, Any]:
    """Decoder layers, image shape, map points ``(n, 2)`` and labels, for the
    browser.

    ``layers`` is :func:`pack_decoder`'s list (dense layers keep the
    ``{"n_in", "n_out", "w16", "b"}`` fields they always had);
    ``image_shape`` is ``[height, width, channels]``, the shape of the flat
    values the decoder gives (decoder.js's ``toImageData`` takes it);
    ``points`` is ``(n, 2)`` float32, ``labels`` ``(n,)`` uint8 and
    ``names`` the class names the labels index (empty for a data set without
    labels, whose labels are all 0). A set with known factors (the shapes set)
    adds ``factors`` ``(n, k)`` float32, row-major, and ``factor_names``.
    A stored plane's ``anchors`` add ``anchor_means`` ``(m, latent_dim)``
    float32 and, when they are not every point, ``anchor_rows`` ``(m,)``
    uint32.
    """
    packed = {
        "layers": pack_decoder(model.vae),
        "image_shape": list(model.record.model.image_shape),
        "latent_dim": model.record.model.latent_dim,
        "points": b64(points),
        "labels": b64(model.labels, "u1"),
        "count": int(points.shape[0]),
        "names": list(model.class_names or ()),
    }
    if model.factors is not None:
        packed["factors"] = b64(model.factors)
        packed["factor_names"] = list(model.factor_names or ())
    packed["figures"] = {k: b64(v) for k, v in _figures(model).items()}
    if anchors is not None:
        rows, means = anchors
        packed["anchor_means"] = b64(means)
        if rows is not None:
            packed["anchor_rows"] = b64(rows, "<u4")
    return packed


def _figures(model: LoadedModel) -> dict[str, np.ndarray]:
    """The per-image figures the map may colour by (``"elbo"``, ``"recon"``,
    ``"kl"``, each ``(n,)``), those the folder has."""
    n = model.latent_mean.shape[0]
    return {k: v for k, v in model.figures.items() if np.shape(v) == (n,)}


class _Blob:
    """Arrays appended to one byte string, each at an offset aligned to 8."""

    def __init__(self) -> None:
        self.parts: list[bytes] = []
        self.size = 0

    def add(self, array: np.ndarray, dtype: str) -> list[int]:
        """Append ``array`` as ``dtype``; return ``[byte offset, count]``."""
        data = np.ascontiguousarray(array, dtype=dtype).tobytes()
        pad = -self.size % 8
        self.parts.append(b"\0" * pad + data)
        offset = self.size + pad
        self.size = offset + len(data)
        return [offset, int(np.asarray(array).size)]

    def bytes(self) -> bytes:
        return b"".join(self.parts)


@dataclasses.dataclass(frozen=True)
class ModelFiles:
    """A model's browser assets as two binary files and the JSON that reads them.

    ``meta`` is :func:`pack_model`'s dict with ``points`` and ``labels`` as
    ``[byte offset, count]`` into ``points_blob`` and each layer's ``w16`` and
    ``b`` as ``[byte offset, count]`` into ``decoder_blob``.
    """

    meta: dict[str, Any]
    decoder_blob: bytes
    points_blob: bytes


def pack_decoder_file(vae: NumpyVAE) -> tuple[list[dict[str, Any]], bytes]:
    """:func:`pack_decoder`'s layers with ``w16`` and ``b`` as ``[byte
    offset, count]`` into the returned bytes (the decoder's binary file)."""
    layers = pack_decoder(vae)
    blob = _Blob()
    for layer, source in zip(
        (item for item in layers if "w16" in item), vae.decoder_layers(), strict=True
    ):
        kernel = source.kernel
        if layer["kind"] == "conv_transpose":
            kernel = kernel.transpose(3, 0, 1, 2)
        layer["w16"] = blob.add(kernel, "<f2")
        layer["b"] = blob.add(source.bias, "<f4")
    return layers, blob.bytes()


def pack_model_files(
    model: LoadedModel, points: np.ndarray, anchors: Anchors | None = None
) -> ModelFiles:
    """The same content as :func:`pack_model`, as binary blobs (no base64)."""
    layers, decoder_blob = pack_decoder_file(model.vae)
    blob = _Blob()
    meta = {
        "layers": layers,
        "image_shape": list(model.record.model.image_shape),
        "latent_dim": model.record.model.latent_dim,
        "points": blob.add(points, "<f4"),
        "labels": blob.add(model.labels, "u1"),
        "count": int(points.shape[0]),
        "names": list(model.class_names or ()),
    }
    if model.factors is not None:
        meta["factors"] = blob.add(model.factors, "<f4")
        meta["factor_names"] = list(model.factor_names or ())
    meta["figures"] = {k: blob.add(v, "<f4") for k, v in _figures(model).items()}
    if anchors is not None:
        rows, means = anchors
        meta["anchor_means"] = blob.add(means, "<f4")
        if rows is not None:
            meta["anchor_rows"] = blob.add(rows, "<u4")
    return ModelFiles(meta, decoder_blob, blob.bytes())
