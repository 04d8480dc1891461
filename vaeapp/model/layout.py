"""Where each layer's weights sit in a Keras ``.weights.h5`` file, the shapes
they must have, and how each layer maps its input, for a given
:class:`ModelConfig`.

Keras 3 names the groups in a weights file by layer class and order within
each sub-model (``conv2d``, ``conv2d_1``, ``dense``, ``dense_1``,
``conv2d_transpose``, ...), not by layer name; layers without weights
(reshape, flatten) get empty groups of their own and are not listed here. The
model in :mod:`vaeapp.model.vae` creates its layers in the order listed here:

- encoder: [conv layers,] dense hidden layers, mean head, log-variance head;
- decoder: dense hidden layers, [the dense projection to the innermost feature
  map, the transposed conv layers, the last of which gives logits,] or for a
  dense model the dense logits head.

Every layer is described on flattened arrays: a feature map ``(h, w, c)`` is
stored channels-last and flattened row-major, as Keras's ``Reshape`` and
``Flatten`` do, so an image of ``config.image_shape`` ``(height, width,
channels)`` is its ``height * width * channels`` values in reading order (a
colour image's red, green and blue of one pixel side by side) either way.
This module is pure Python so the NumPy inference path can use it without Keras.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from vaeapp.core.config import CONV_KERNEL, CONV_STRIDE, ModelConfig

DENSE, CONV, CONV_TRANSPOSE = "dense", "conv", "conv_transpose"
# Group-name stems Keras derives from the layer classes.
_KERAS_STEMS = {DENSE: "dense", CONV: "conv2d", CONV_TRANSPOSE: "conv2d_transpose"}


@dataclass(frozen=True)
class LayerSpec:
    """One layer with weights: where they are stored and what it computes.

    ``kind`` is ``"dense"``, ``"conv"`` or ``"conv_transpose"``; ``kernel_shape``
    is Keras's layout: ``(n_in, n_out)``, ``(k, k, c_in, c_out)`` for a
    convolution and ``(k, k, c_out, c_in)`` for a transposed one. ``in_shape``
    and ``out_shape`` are ``(n,)`` for dense layers and ``(h, w, c)`` for
    convolutions. ``pad`` is ``(top, left)``: for a convolution, the zero rows
    and columns added before the input ("same" padding puts any odd one after);
    for a transposed convolution, the rows and columns cropped from the start
    of its full ``((h - 1) * stride + k)``-sided output.
    """

    kind: str
    path: str
    kernel_shape: tuple[int, ...]
    in_shape: tuple[int, ...]
    out_shape: tuple[int, ...]
    stride: int = 1
    pad: tuple[int, int] = (0, 0)

    @property
    def bias_shape(self) -> tuple[int]:
        return (self.out_shape[-1],)

    @property
    def n_in(self) -> int:
        """Flat input size."""
        return math.prod(self.in_shape)

    @property
    def n_out(self) -> int:
        """Flat output size."""
        return math.prod(self.out_shape)

    @property
    def parameters(self) -> int:
        return math.prod(self.kernel_shape) + self.bias_shape[0]


def same_padding(size: int, kernel: int, stride: int) -> tuple[int, int]:
    """``(output size, padding before)`` of a "same" convolution over ``size``.

    As TensorFlow defines it: the output has ``ceil(size / stride)`` positions
    and the total padding ``max((out - 1) * stride + kernel - size, 0)`` is split
    with the smaller half before.
    """
    out = -(-size // stride)
    total = max((out - 1) * stride + kernel - size, 0)
    return out, total // 2


def conv_inner_shape(config: ModelConfig) -> tuple[int, int, int]:
    """The innermost feature map of a conv model, ``(height / 2**stages,
    width / 2**stages, conv_filters[-1])``: the encoder's last convolution
    gives it and the decoder's dense projection is reshaped to it (7x7x64 for
    MNIST and the conv preset, 4x4x128 for 32x32 images and conv-deep)."""
    height, width, _ = config.image_shape
    filters = config.conv_filters
    step = CONV_STRIDE ** len(filters)
    return (height // step, width // step, filters[-1])


def _conv(path: str, shape_in: tuple[int, ...], filters: int) -> LayerSpec:
    (height, width, channels) = shape_in
    out_h, top = same_padding(height, CONV_KERNEL, CONV_STRIDE)
    out_w, left = same_padding(width, CONV_KERNEL, CONV_STRIDE)
    return LayerSpec(
        CONV,
        path,
        (CONV_KERNEL, CONV_KERNEL, channels, filters),
        shape_in,
        (out_h, out_w, filters),
        CONV_STRIDE,
        (top, left),
    )


def _conv_transpose(
    path: str, shape_in: tuple[int, ...], filters: int, stride: int
) -> LayerSpec:
    (height, width, channels) = shape_in
    out_h, out_w = height * stride, width * stride
    # A "same" transposed convolution is the gradient of the "same" convolution
    # from ``out`` back to ``side``: it crops what that convolution padded.
    _, top = same_padding(out_h, CONV_KERNEL, stride)
    _, left = same_padding(out_w, CONV_KERNEL, stride)
    return LayerSpec(
        CONV_TRANSPOSE,
        path,
        (CONV_KERNEL, CONV_KERNEL, filters, channels),
        shape_in,
        (out_h, out_w, filters),
        stride,
        (top, left),
    )


def _dense(path: str, n_in: int, n_out: int) -> LayerSpec:
    return LayerSpec(DENSE, path, (n_in, n_out), (n_in,), (n_out,))


class _Namer:
    """Keras's group names within one sub-model: ``stem``, ``stem_1``, ..."""

    def __init__(self, part: str) -> None:
        self.part, self.counts = part, dict.fromkeys(_KERAS_STEMS, 0)

    def __call__(self, kind: str) -> str:
        count = self.counts[kind]
        self.counts[kind] += 1
        stem = _KERAS_STEMS[kind]
        return f"{self.part}/layers/{stem if count == 0 else f'{stem}_{count}'}"


def encoder_layers(config: ModelConfig) -> list[LayerSpec]:
    """The encoder's layers with weights in creation order; the last two are
    the mean and log-variance heads, the others are followed by ReLU."""
    name = _Namer("encoder")
    layers: list[LayerSpec] = []
    n_in = config.n_pixels
    if config.architecture == "conv":
        shape: tuple[int, ...] = tuple(config.image_shape)
        for filters in config.conv_filters:
            layers.append(_conv(name(CONV), shape, filters))
            shape = layers[-1].out_shape
        n_in = math.prod(shape)
    for width in config.hidden:
        layers.append(_dense(name(DENSE), n_in, width))
        n_in = width
    layers.append(_dense(name(DENSE), n_in, config.latent_dim))
    layers.append(_dense(name(DENSE), n_in, config.latent_dim))
    return layers


def decoder_layers(config: ModelConfig) -> list[LayerSpec]:
    """The decoder's layers with weights in creation order; the last gives
    logits ``(height * width * channels,)``, the others are followed by ReLU.

    A conv decoder projects to :func:`conv_inner_shape`, doubles it back with
    one stride-2 transposed convolution per encoder stage and ends with a
    stride-1 one that has one filter per image channel."""
    name = _Namer("decoder")
    layers: list[LayerSpec] = []
    n_in = config.latent_dim
    for width in config.decoder_widths:
        layers.append(_dense(name(DENSE), n_in, width))
        n_in = width
    if config.architecture != "conv":
        return [*layers, _dense(name(DENSE), n_in, config.n_pixels)]
    shape: tuple[int, ...] = conv_inner_shape(config)
    layers.append(_dense(name(DENSE), n_in, math.prod(shape)))
    for filters in reversed(config.conv_filters):
        layers.append(
            _conv_transpose(name(CONV_TRANSPOSE), shape, filters, CONV_STRIDE)
        )
        shape = layers[-1].out_shape
    channels = config.image_shape[2]
    layers.append(_conv_transpose(name(CONV_TRANSPOSE), shape, channels, 1))
    return layers


def parameter_count(config: ModelConfig) -> int:
    """Number of trainable parameters of the whole VAE."""
    return sum(
        spec.parameters for spec in encoder_layers(config) + decoder_layers(config)
    )
